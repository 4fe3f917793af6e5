"""`llmtap.tags(...)` (context manager and decorator) and `llmtap.current_tags()`.

Labels live in a context variable, so asyncio tasks inherit the labels current when they were created
and each request keeps its own. Labels the schema marks `propagate = true` are also put into OTel
baggage while they are current (unless the incoming baggage carries them: upstream wins), so the configured
propagator sends them downstream.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, NamedTuple, TypeVar

from opentelemetry import context as otel_context

from llmtap.labels import policy as _policy
from llmtap.labels.baggage import incoming_labels, outgoing_context
from llmtap.labels.policy import attributes_of
from llmtap.labels.schema import LabelValue
from llmtap.labels.wrapping import wrap

F = TypeVar("F", bound=Callable[..., Any])


class Frame(NamedTuple):
    """The labels set by `tags()` blocks in this context, and their span attributes."""

    labels: dict[str, LabelValue]
    attributes: dict[str, LabelValue]


_EMPTY = Frame({}, {})
_frame: ContextVar[Frame] = ContextVar("llmtap_labels", default=_EMPTY)


def current_frame() -> Frame:
    return _frame.get()


def current_tags() -> dict[str, LabelValue]:
    """The labels a span started now would carry: `LLMTAP_TAGS`, then `tags()` blocks, then incoming baggage."""
    policy = _policy.current_policy()
    merged = dict(policy.env_labels)
    merged.update(_frame.get().labels)
    merged.update(incoming_labels(policy, None))
    return merged


Tokens = tuple[Token[Frame], object | None]


def push(labels: dict[str, LabelValue]) -> Tokens:
    """Make `labels` (already checked) current on top of the current ones; returns what `pop` needs.

    The propagated ones also go into the baggage, unless the incoming baggage carries them (see `baggage`).
    """
    merged = {**_frame.get().labels, **labels}
    token = _frame.set(Frame(merged, attributes_of(merged)))
    ctx = outgoing_context(labels, _policy.current_policy().propagated)
    return token, None if ctx is None else otel_context.attach(ctx)


def pop(tokens: Tokens) -> None:
    """Undo `push`. Never raises: restored to what was current before, even from another context."""
    token, baggage_token = tokens
    if baggage_token is not None:
        otel_context.detach(baggage_token)  # type: ignore[arg-type]  # logs, does not raise, on a mismatch
    try:
        _frame.reset(token)
    except ValueError:  # the token was made in another context (e.g. a generator resumed in another task)
        _frame.set(_EMPTY if token.old_value is Token.MISSING else token.old_value)


# The `with llmtap.tags(...)` blocks open in this context, innermost last: (instance, tokens). Kept in the
# context, not on the instance, so one instance can be entered by concurrent tasks and threads at once.
_open: ContextVar[tuple[tuple[object, Tokens], ...]] = ContextVar("llmtap_open_tags", default=())


class tags:  # lower-case: used like a function, `with llmtap.tags(...)` / `@llmtap.tags(...)`
    """Labels for every span started inside: `with llmtap.tags(user_id="u1"):` or `@llmtap.tags(...)`.

    Nests and merges (inner values win); restored on exit, also when an exception leaves the block.
    As a decorator it works on sync and async functions and on (async) generators; labels are checked
    against the schema each time the block is entered (`strict` mode raises `llmtap.LabelError` there).
    """

    __slots__ = ("_labels",)

    def __init__(self, **labels: Any) -> None:
        self._labels = labels

    # Scope protocol (see llmtap.labels.wrapping)
    def open(self, func: Any = None, args: Any = None, kwargs: Any = None) -> dict[str, LabelValue]:
        return _policy.current_policy().check(self._labels)

    def resume(self, state: dict[str, LabelValue]) -> Tokens:
        return push(state)

    def suspend(self, state: Any, token: Tokens) -> None:
        pop(token)

    def close(self, state: Any, error: BaseException | None, result: Any = None) -> None:
        return None

    def __enter__(self) -> dict[str, LabelValue]:
        checked = self.open()
        tokens = push(checked)
        _open.set((*_open.get(), (self, tokens)))
        return current_tags()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        entries = _open.get()
        for index in range(len(entries) - 1, -1, -1):
            if entries[index][0] is self:
                _open.set(entries[:index] + entries[index + 1 :])
                pop(entries[index][1])
                return
        # Not entered in this context (exited from another task or thread than it was entered in): the
        # labels of this context are not this block's, leave them.

    def __call__(self, func: F) -> F:
        return wrap(func, self)
