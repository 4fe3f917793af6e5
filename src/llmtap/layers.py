"""Model-call layers: the duplicate policy when a framework's model span wraps an instrumented SDK.

A framework plugin (LangChain, ...) records a model span of its own for every model run, whether or
not the model's code reaches an SDK that an llmtap provider plugin instruments. While that model code
runs, the framework plugin keeps a `ModelLayer` open; every llmtap model invocation that starts inside
it (`llmtap.invocation.Invocation`) marks the layer covered. A covered framework span keeps all its
attributes but records no metrics: the model span(s) below it recorded that API call's token usage,
duration and time to first chunk, once. An uncovered one (a fake or custom model calling no
instrumented SDK) records them itself. So each API call is counted once, by the lowest llmtap layer.

The layer is a mutable object in a ContextVar, so a model call run in an executor thread with a copy
of the context (LangChain's `run_in_executor`) still marks it.
"""

from __future__ import annotations

from contextvars import ContextVar, Token


class ModelLayer:
    __slots__ = ("covered",)

    def __init__(self) -> None:
        self.covered = False


_current: ContextVar[ModelLayer | None] = ContextVar("llmtap_model_layer", default=None)


def enter(layer: ModelLayer | None) -> Token[ModelLayer | None]:
    """Open `layer` for the code that runs until the paired `leave` (call it in `finally`).

    `None` opens no layer but hides the enclosing one (a non-model step run inside a model's code).
    """
    return _current.set(layer)


def leave(token: Token[ModelLayer | None]) -> None:
    _current.reset(token)


def mark_covered() -> None:
    """An llmtap model invocation starts: the enclosing framework layer, if any, need not count it."""
    layer = _current.get()
    if layer is not None:
        layer.covered = True
