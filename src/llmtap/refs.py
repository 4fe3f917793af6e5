"""`SpanRef`: a stable reference to a span, and the map from SDK response objects to their span."""

from __future__ import annotations

import weakref
from typing import Any, NamedTuple

from opentelemetry import trace
from opentelemetry.trace import SpanContext


class SpanRef(NamedTuple):
    """A span's identity: `trace_id` (32 lowercase hex digits) and `span_id` (16)."""

    trace_id: str
    span_id: str

    @classmethod
    def from_context(cls, context: SpanContext) -> SpanRef | None:
        if not context.is_valid:
            return None
        return cls(format(context.trace_id, "032x"), format(context.span_id, "016x"))


# id(object) -> (weak reference to it, span context). SDK models are weak-referenceable but not hashable.
_produced_by: dict[int, tuple[weakref.ref[Any], SpanContext]] = {}


def remember(obj: Any, context: SpanContext) -> None:
    """Record that `obj` (a response, stream or helper object) was produced by the span `context`."""
    key = id(obj)

    def forget(ref: weakref.ref[Any], key: int = key) -> None:
        entry = _produced_by.get(key)
        if entry is not None and entry[0] is ref:
            del _produced_by[key]

    try:
        _produced_by[key] = (weakref.ref(obj, forget), context)
    except TypeError:  # not weak-referenceable: nothing to remember it by safely
        pass


def span_of(response: Any) -> SpanRef | None:
    """The span of the call that produced `response` (an SDK response object or stream), if any."""
    entry = _produced_by.get(id(response))
    if entry is None or entry[0]() is not response:
        return None
    return SpanRef.from_context(entry[1])


def current_span_ref() -> SpanRef | None:
    """The currently active span, if there is a valid one."""
    return SpanRef.from_context(trace.get_current_span().get_span_context())
