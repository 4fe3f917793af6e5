"""Turning what `annotate()` is given as a target into a `Target` (and the live span, when there is one)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace

from llmtap.annotations.model import JoinKey, Target
from llmtap.errors import AnnotationError
from llmtap.labels.policy import current_policy
from llmtap.refs import SpanRef, span_of

_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_SPAN_ID = re.compile(r"[0-9a-f]{16}")
EXPECTED = (
    "expected a SpanRef, a span, an SDK response object llmtap recorded, a trace id (32 hex digits), "
    "{'session_id': ...} or {'join': {'label': ..., 'value': ...}}"
)


@dataclass(frozen=True, slots=True)
class Resolved:
    target: Target
    live_span: Any = None  # the span object, when it is still open in this process
    response_id: str | None = None  # gen_ai.response.id, when the target was an SDK response object


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def label_text(value: Any) -> str:
    """A label value as the join key compares it (labels may be numbers or booleans on the span)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _span_target(ref: SpanRef, live: Any = None, response_id: str | None = None) -> Resolved:
    return Resolved(Target("span", ref.trace_id, ref.span_id), live, response_id)


def _from_ref(ref: SpanRef) -> Resolved:
    if not (_TRACE_ID.fullmatch(ref.trace_id or "") and _SPAN_ID.fullmatch(ref.span_id or "")):
        raise AnnotationError(
            f"target={ref!r}: expected a SpanRef of 32 and 16 lowercase hex digits, e.g. from llmtap.span_of()"
        )
    current = trace.get_current_span()  # an open span the caller is inside gets the attributes too
    return _span_target(ref, current if SpanRef.from_context(current.get_span_context()) == ref else None)


def _from_span(span: Any) -> Resolved:
    ref = SpanRef.from_context(span.get_span_context())
    if ref is None:
        raise AnnotationError(f"target={_short(span)}: the span is not valid (no trace id); {EXPECTED}")
    return _span_target(ref, span if span.is_recording() else None)


def _join(raw: Any, labels_declared: Mapping[str, Any]) -> JoinKey:
    if not isinstance(raw, Mapping) or set(raw) != {"label", "value"}:
        raise AnnotationError(f"target={{'join': {raw!r}}}: expected {{'join': {{'label': ..., 'value': ...}}}}")
    label, value = raw["label"], raw["value"]
    if not isinstance(label, str) or not label:
        raise AnnotationError(f"target join label={label!r}: expected the name of a label, e.g. 'message_id'")
    if labels_declared and label not in labels_declared:
        raise AnnotationError(
            f"target join label={label!r}: not a declared label; expected one of {', '.join(sorted(labels_declared))}"
        )
    if not isinstance(value, str | int | float | bool) or (isinstance(value, str) and not value):
        raise AnnotationError(f"target join value={value!r}: expected a non-empty string, a number or a boolean")
    return JoinKey(label, label_text(value))


def _from_mapping(raw: Mapping[str, Any]) -> Resolved:
    keys = set(raw)
    if keys == {"session_id"}:
        session = raw["session_id"]
        if not isinstance(session, str) or not session:
            raise AnnotationError(f"target session_id={session!r}: expected a non-empty string")
        return Resolved(Target("session", session_id=session))
    if keys == {"join"}:
        return Resolved(Target("span", join=_join(raw["join"], current_policy().specs)))
    if keys == {"trace_id", "span_id"}:
        return _from_ref(SpanRef(str(raw["trace_id"]).lower(), str(raw["span_id"]).lower()))
    raise AnnotationError(f"target={_short(dict(raw))}: {EXPECTED}")


def resolve(target: Any) -> Resolved:
    """The `Target` of anything `llmtap.annotate()` accepts; `AnnotationError` for anything else."""
    if isinstance(target, SpanRef):
        return _from_ref(target)
    if isinstance(target, str):
        text = target.strip().lower()
        if not _TRACE_ID.fullmatch(text) or text == "0" * 32:
            raise AnnotationError(f"target={target!r}: not a trace id; {EXPECTED}")
        return Resolved(Target("trace", trace_id=text))
    if isinstance(target, Mapping):
        return _from_mapping(target)
    if callable(getattr(target, "get_span_context", None)):
        return _from_span(target)
    from llmtap.manual import LLMSpan

    if isinstance(target, LLMSpan):
        return _from_span(target.span)
    ref = span_of(target)
    if ref is None:
        raise AnnotationError(f"target={_short(target)}: no span is known for this object; {EXPECTED}")
    response_id = getattr(target, "id", None)
    return _span_target(ref, None, response_id if isinstance(response_id, str) else None)
