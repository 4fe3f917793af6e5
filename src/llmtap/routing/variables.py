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
from llmtap.routing.references import ALL, NAMES, Needs

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


def _model(attributes: Mapping[str, Any]) -> str:
    return str(attributes.get(gen_ai.GEN_AI_RESPONSE_MODEL) or attributes.get(gen_ai.GEN_AI_REQUEST_MODEL) or "")


def _attributes(span: SpanFacts, keys: frozenset[str] | None) -> dict[str, Any]:
    attributes = span.attributes
    if keys is not None:
        attributes = {key: attributes[key] for key in keys if key in attributes}
    return {
        key: _plain(value)
        for key, value in attributes.items()
        if not (isinstance(value, str) and len(value) > MAX_ATTRIBUTE_CHARS)
    }


# How each span field is read; `attributes` is built by `_attributes` (it may be cut to the keys rules read).
_SPAN_GETTERS: dict[str, Any] = {
    "span_id": lambda span: span.span_id,
    "parent_span_id": lambda span: span.parent_span_id or "",
    "name": lambda span: span.name,
    "kind": lambda span: span.kind,
    "operation": lambda span: str(span.attributes.get(gen_ai.GEN_AI_OPERATION_NAME, "")),
    "provider": lambda span: str(span.attributes.get(gen_ai.GEN_AI_PROVIDER_NAME, "")),
    "model": lambda span: _model(span.attributes),
    "status": lambda span: span.status,
    "error_type": lambda span: str(span.attributes.get("error.type", "")),
    "duration_ms": lambda span: (span.end_ns - span.start_ns) / 1e6,
    "input_tokens": lambda span: _count(span.attributes.get(gen_ai.GEN_AI_USAGE_INPUT_TOKENS)),
    "output_tokens": lambda span: _count(span.attributes.get(gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS)),
    "cost": lambda span: _cost(span.attributes),
}


def _span_variable(span: SpanFacts, needs: Needs = ALL) -> dict[str, Any]:
    """The span as a condition sees it: every field, or only those `needs` says rules can read."""
    fields = SPAN_FIELDS if needs.span_fields is None else needs.span_fields & SPAN_FIELDS
    value = {name: _SPAN_GETTERS[name](span) for name in fields if name != "attributes"}
    if "attributes" in fields:
        value["attributes"] = _attributes(span, needs.attribute_keys)
    return value


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


def _start(span: SpanFacts) -> int:
    return span.start_ns


def _trace_variable(ordered: Sequence[SpanFacts], root: SpanFacts | None, fields: frozenset[str]) -> dict[str, Any]:
    """The `trace` map with `fields` (one pass over the spans, sorted by start)."""
    end = 0
    error = False
    calls = input_tokens = output_tokens = 0
    cost = 0.0
    for span in ordered:
        attributes = span.attributes
        if span.end_ns > end:
            end = span.end_ns
        if span.status == "ERROR":
            error = True
        if is_model_call(span):
            calls += 1
            input_tokens += _count(attributes.get(gen_ai.GEN_AI_USAGE_INPUT_TOKENS))
            output_tokens += _count(attributes.get(gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS))
        if COST in attributes:
            cost += _cost(attributes)
    every = {
        "trace_id": ordered[0].trace_id if ordered else "",
        "root_name": root.name if root else "",
        "duration_ms": (end - ordered[0].start_ns) / 1e6 if ordered else 0.0,
        "error": error,
        "span_count": len(ordered),
        "model_calls": calls,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost": cost,
    }
    return every if fields is TRACE_FIELDS else {name: every[name] for name in fields if name in every}


def _labels(ordered: Sequence[SpanFacts], root: SpanFacts | None, keys: frozenset[str] | None) -> dict[str, Any]:
    """`llmtap.tag.*` attributes, the root's first, then each span's in start order (the first value wins);
    only `keys` when given."""
    spans = [root, *ordered] if root else ordered
    if keys is not None:
        labels: dict[str, Any] = {}
        for key in keys:
            name = ATTRIBUTE_PREFIX + key
            for span in spans:
                value = span.attributes.get(name, _MISSING)
                if value is not _MISSING:
                    labels[key] = _plain(value)
                    break
        return labels
    found: dict[str, Any] = {}
    for span in reversed(spans):  # earlier spans overwrite later ones
        found.update({key: value for key, value in span.attributes.items() if key.startswith(ATTRIBUTE_PREFIX)})
    cut = len(ATTRIBUTE_PREFIX)
    return {key[cut:]: _plain(value) for key, value in found.items()}


_MISSING = object()


def build(
    spans: Sequence[SpanFacts], annotations: Iterable[AnnotationFacts] = (), needs: Needs | Iterable[str] = ALL
) -> dict[str, Any]:
    """The variables of the trace made of `spans` (one trace) with its `annotations`.

    `needs`: what the rules can read (`references.analyse`; or just the variable names): only that is built,
    since handing values to CEL costs microseconds per map entry. A rule never sees a difference: what it
    reads is always there, as documented.
    """
    if not isinstance(needs, Needs):
        needs = Needs(frozenset(needs) & NAMES)
    names = needs.names
    ordered = sorted(spans, key=_start)
    root = local_root(ordered) if names & {"root", "labels", "trace"} else None
    values: dict[str, Any] = {}
    if "trace" in names:
        fields = TRACE_FIELDS if needs.trace_fields is None else needs.trace_fields
        values["trace"] = _trace_variable(ordered, root, fields)
    if "labels" in names:
        values["labels"] = _labels(ordered, root, needs.label_keys)
    if "annotations" in names or "annotation_history" in names:
        latest: dict[str, Any] = {}
        history: dict[str, list[Any]] = {}
        for annotation in sorted(annotations, key=lambda item: item.time_ns):
            latest[annotation.name] = annotation.value
            history.setdefault(annotation.name, []).append(annotation.value)
        if "annotations" in names:
            values["annotations"] = _only(latest, needs.annotation_keys)
        if "annotation_history" in names:
            values["annotation_history"] = _only(history, needs.history_keys)
    if "spans" in names:
        values["spans"] = [_span_variable(span, needs) for span in ordered]
    if "root" in names:
        values["root"] = _span_variable(root, needs) if root else _empty_span(needs)
    return values


def _only(mapping: dict[str, Any], keys: frozenset[str] | None) -> dict[str, Any]:
    return mapping if keys is None else {key: mapping[key] for key in keys if key in mapping}


def _empty_span(needs: Needs) -> dict[str, Any]:
    fields = SPAN_FIELDS if needs.span_fields is None else needs.span_fields
    return {name: value for name, value in _EMPTY_SPAN.items() if name in fields}


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
