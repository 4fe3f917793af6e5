"""Model-call layers: one API call, one model span, whatever wraps it.

A framework plugin (LangChain, ...) and the manual API (`llmtap.LLMTracer`) record model calls of
their own, whether or not the code they wrap reaches an SDK that an llmtap provider plugin
instruments. While that code runs, they keep a `ModelLayer` open; every llmtap model invocation that
starts inside it (`llmtap.invocation.Invocation`) *covers* it, and every enclosing layer too.

The rule, applied by `Invocation.end`: the lowest llmtap model span of an API call is its one model
span, and the only one carrying its usage, response id, response model and metrics.

- A covered layer's own model span, if it has one, is no model span: it ends as an
  `invoke_workflow` span without usage, response or metrics (`Emitter.finish_covered`). Framework
  plugins start their model span lazily (`Invocation(deferred=True)`), so a covered framework model
  run usually has no span at all: the provider SDK's span is the model span, under the framework's
  parent step.
- The facts only the layer knows (a framework's run id, tags, metadata, model class) are copied onto
  the model span(s) below it (`ModelLayer.facts`), so nothing the framework knew is lost.
- An uncovered layer (a fake model, a custom model over plain HTTP) is the model span itself, with
  usage and metrics, as any model span.

The open layers are a tuple in a ContextVar, so a model call run in an executor thread with a copy of
the context (LangChain's `run_in_executor`) still covers them.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.trace import SpanContext

# The attribute a covered layer's span carries: its API call(s) are on the model span(s) below it.
COVERED = "llmtap.layer.covered"

Layers = tuple["ModelLayer", ...]


class ModelLayer:
    __slots__ = ("covered", "facts", "model_span")

    def __init__(self, facts: dict[str, Any] | None = None) -> None:
        self.covered = False
        self.facts = facts  # attributes copied onto the model span(s) below
        # The span context of the (last) model span below: what `llmtap.span_of` finds for the framework's
        # result of this call (e.g. LangChain's AIMessage).
        self.model_span: SpanContext | None = None


_open: ContextVar[Layers] = ContextVar("llmtap_model_layers", default=())


def enter(layer: ModelLayer | None) -> Token[Layers]:
    """Open `layer` for the code that runs until the paired `leave` (call it in `finally`).

    `None` opens no layer but hides the enclosing ones (a non-model step run inside a model's code).
    """
    return _open.set((*_open.get(), layer) if layer is not None else ())


def leave(token: Token[Layers]) -> None:
    _open.reset(token)


def cover(own: ModelLayer | None = None) -> tuple[dict[str, Any] | None, Layers]:
    """An llmtap model invocation starts: every open layer enclosing it (outside `own`, the layer of the
    invocation's own code, if open) is covered. Returns the layers' facts (inner ones win), if any, and
    the covered layers (for `spanned`)."""
    layers = _open.get()
    if not layers:
        return None, ()
    if own is not None and own in layers:
        layers = layers[: layers.index(own)]
    facts: dict[str, Any] | None = None
    for layer in layers:
        layer.covered = True
        if layer.facts:
            facts = {**facts, **layer.facts} if facts else dict(layer.facts)
    return facts, layers


def spanned(covered: Layers, context: SpanContext) -> None:
    """The model span covering `covered` started with `context`."""
    for layer in covered:
        layer.model_span = context
