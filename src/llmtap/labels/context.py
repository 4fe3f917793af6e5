"""`llmtap.tags(...)` (context manager and decorator) and `llmtap.current_tags()`.

Labels live in a context variable, so asyncio tasks inherit the labels current when they were created
and each request keeps its own. Labels the schema marks `propagate = true` are also put into OTel
baggage while they are current, so the configured propagator sends them downstream.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, NamedTuple, TypeVar

from opentelemetry import baggage
from opentelemetry import context as otel_context

from llmtap.labels import policy as _policy
from llmtap.labels.baggage import incoming_labels
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


def push(labels: dict[str, LabelValue]) -> tuple[Token[Frame], object | None]:
    """Make `labels` (already checked) current on top of the current ones; returns what `pop` needs."""
    merged = {**_frame.get().labels, **labels}
    token = _frame.set(Frame(merged, attributes_of(merged)))
    propagated = _policy.current_policy().propagated
    outgoing = [key for key in labels if key in propagated]
    if not outgoing:
        return token, None
    ctx = otel_context.get_current()
    for key in outgoing:
        value = labels[key]
        ctx = baggage.set_baggage(key, ("true" if value else "false") if isinstance(value, bool) else str(value), ctx)
    return token, otel_context.attach(ctx)


def pop(tokens: tuple[Token[Frame], object | None]) -> None:
    token, baggage_token = tokens
    if baggage_token is not None:
        otel_context.detach(baggage_token)  # type: ignore[arg-type]
    _frame.reset(token)


class tags:  # lower-case: used like a function, `with llmtap.tags(...)` / `@llmtap.tags(...)`
    """Labels for every span started inside: `with llmtap.tags(user_id="u1"):` or `@llmtap.tags(...)`.

    Nests and merges (inner values win); restored on exit, also when an exception leaves the block.
    As a decorator it works on sync and async functions and on (async) generators; labels are checked
    against the schema each time the block is entered (`strict` mode raises `llmtap.LabelError` there).
    """

    __slots__ = ("_labels", "_stack")

    def __init__(self, **labels: Any) -> None:
        self._labels = labels
        self._stack: list[tuple[Token[Frame], object | None]] = []

    # Scope protocol (see llmtap.labels.wrapping)
    def open(self, func: Any = None, args: Any = None, kwargs: Any = None) -> dict[str, LabelValue]:
        return _policy.current_policy().check(self._labels)

    def resume(self, state: dict[str, LabelValue]) -> tuple[Token[Frame], object | None]:
        return push(state)

    def suspend(self, state: Any, token: tuple[Token[Frame], object | None]) -> None:
        pop(token)

    def close(self, state: Any, error: BaseException | None, result: Any = None) -> None:
        return None

    def __enter__(self) -> dict[str, LabelValue]:
        checked = self.open()
        self._stack.append(push(checked))
        return current_tags()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pop(self._stack.pop())

    def __call__(self, func: F) -> F:
        return wrap(func, self)
