"""The variables a routing condition sees, built from a trace's spans and annotations.

- `trace` (map): `trace_id`, `root_name`, `duration_ms` (double), `error` (bool: a span has status ERROR),
  `span_count`, `model_calls`, `input_tokens`, `output_tokens` (ints, summed over model spans), `cost`
  (double, USD, summed `llmtap.usage.cost`; 0.0 when nothing was priced).
- `labels` (map string -> value): the trace's labels (`llmtap.tag.*`), typed as on the spans.
- `annotations` (map string -> value): each annotation name's latest value.
- `annotation_history` (map string -> list): each annotation name's values, oldest first.
- `spans` (list of maps): every span: `span_id`, `parent_span_id`, `name`, `kind` (CLIENT, INTERNAL, ...),
  `operation` (`gen_ai.operation.name`), `provider`, `model` (response model, else request model), `status`
  (UNSET, OK, ERROR), `error_type`, `duration_ms`, `input_tokens`, `output_tokens`, `cost`, `attributes` (map).
- `root` (map): the local root span, with the fields of a span (all empty when the trace has no root yet).

Attribute values longer than 1024 characters (captured content) are left out of `attributes`.
Missing strings are `""`, missing numbers `0`: conditions compare without null checks. A label or
annotation a trace lacks is a missing map key: test it with `has(labels.k)` / `"k" in labels`, or the
condition is an evaluation error for that trace and does not match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from llmtap.labels.policy import ATTRIBUTE_PREFIX, is_llm_span

NAMES = frozenset({"trace", "labels", "annotations", "annotation_history", "spans", "root"})
TRACE_FIELDS = frozenset(
    {
        "trace_id",
        "root_name",
        "duration_ms",
        "error",
        "span_count",
        "model_calls",
        "input_tokens",
        "output_tokens",
        "cost",
    }
)
SPAN_FIELDS = frozenset(
    {
        "span_id",
        "parent_span_id",
        "name",
        "kind",
        "operation",
        "provider",
        "model",
        "status",
        "error_type",
        "duration_ms",
        "input_tokens",
        "output_tokens",
        "cost",
        "attributes",
    }
)
COST = "llmtap.usage.cost"
# Longer attribute values (captured prompts and completions) stay out of `attributes`: handing them to CEL
# would cost far more than evaluating every rule.
MAX_ATTRIBUTE_CHARS = 1024


@dataclass(frozen=True, slots=True)
class SpanFacts:
    """What routing needs of one finished span, whatever it came from (the SDK, the store)."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    remote_parent: bool = False  # the parent is in another process: this span is a local root


@dataclass(frozen=True, slots=True)
class AnnotationFacts:
    name: str
    value: Any
    time_ns: int


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def _count(value: Any) -> int:
    return value if type(value) is int else 0


def _span_variable(span: SpanFacts) -> dict[str, Any]:
    attributes = span.attributes
    return {
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id or "",
        "name": span.name,
        "kind": span.kind,
        "operation": str(attributes.get(gen_ai.GEN_AI_OPERATION_NAME, "")),
        "provider": str(attributes.get(gen_ai.GEN_AI_PROVIDER_NAME, "")),
        "model": str(attributes.get(gen_ai.GEN_AI_RESPONSE_MODEL) or attributes.get(gen_ai.GEN_AI_REQUEST_MODEL) or ""),
        "status": span.status,
        "error_type": str(attributes.get("error.type", "")),
        "duration_ms": (span.end_ns - span.start_ns) / 1e6,
        "input_tokens": _count(attributes.get(gen_ai.GEN_AI_USAGE_INPUT_TOKENS)),
        "output_tokens": _count(attributes.get(gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS)),
        "cost": _cost(attributes),
        "attributes": {
            key: _plain(value)
            for key, value in attributes.items()
            if not (isinstance(value, str) and len(value) > MAX_ATTRIBUTE_CHARS)
        },
    }


def is_model_call(span: SpanFacts) -> bool:
    return span.kind == "CLIENT" and is_llm_span(span.attributes)


def local_root(spans: Sequence[SpanFacts]) -> SpanFacts | None:
    ids = {span.span_id for span in spans}
    roots = [
        span for span in spans if span.parent_span_id is None or span.remote_parent or span.parent_span_id not in ids
    ]
    return min(roots, key=lambda span: span.start_ns) if roots else None


def _cost(attributes: Mapping[str, Any]) -> float:
    cost = attributes.get(COST)
    return float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else 0.0


def build(
    spans: Sequence[SpanFacts], annotations: Iterable[AnnotationFacts] = (), needed: frozenset[str] = NAMES
) -> dict[str, Any]:
    """The variables of the trace made of `spans` (one trace) with its `annotations`.

    `needed`: the variables the rules refer to; `spans` and `root` (the costly ones to build and to hand
    to CEL) are left out when no rule uses them.
    """
    ordered = sorted(spans, key=lambda span: span.start_ns)
    root = local_root(ordered)
    calls = [span.attributes for span in ordered if is_model_call(span)]
    labels: dict[str, Any] = {}
    for span in ([root] if root else []) + ordered:
        for key, value in span.attributes.items():
            if key.startswith(ATTRIBUTE_PREFIX):
                labels.setdefault(key[len(ATTRIBUTE_PREFIX) :], _plain(value))
    latest: dict[str, Any] = {}
    history: dict[str, list[Any]] = {}
    for annotation in sorted(annotations, key=lambda item: item.time_ns):
        latest[annotation.name] = annotation.value
        history.setdefault(annotation.name, []).append(annotation.value)
    start = min((span.start_ns for span in ordered), default=0)
    end = max((span.end_ns for span in ordered), default=0)
    values: dict[str, Any] = {
        "trace": {
            "trace_id": ordered[0].trace_id if ordered else "",
            "root_name": root.name if root else "",
            "duration_ms": (end - start) / 1e6,
            "error": any(span.status == "ERROR" for span in ordered),
            "span_count": len(ordered),
            "model_calls": len(calls),
            "input_tokens": sum(_count(call.get(gen_ai.GEN_AI_USAGE_INPUT_TOKENS)) for call in calls),
            "output_tokens": sum(_count(call.get(gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS)) for call in calls),
            "cost": sum(_cost(span.attributes) for span in ordered),
        },
        "labels": labels,
        "annotations": latest,
        "annotation_history": history,
    }
    if "spans" in needed:
        values["spans"] = [_span_variable(span) for span in ordered]
    if "root" in needed:
        values["root"] = _span_variable(root) if root else _EMPTY_SPAN
    return values


_EMPTY_SPAN: dict[str, Any] = {
    "span_id": "",
    "parent_span_id": "",
    "name": "",
    "kind": "",
    "operation": "",
    "provider": "",
    "model": "",
    "status": "",
    "error_type": "",
    "duration_ms": 0.0,
    "input_tokens": 0,
    "output_tokens": 0,
    "cost": 0.0,
    "attributes": {},
}


def probe() -> dict[str, Any]:
    """A trace with every documented field present and typed, to type-check conditions against."""
    span = SpanFacts(
        trace_id="0" * 32,
        span_id="0" * 16,
        parent_span_id=None,
        name="chat probe",
        kind="CLIENT",
        start_ns=0,
        end_ns=1_000_000,
        status="UNSET",
        attributes={gen_ai.GEN_AI_OPERATION_NAME: "chat", COST: 0.0},
    )
    return build([span])
