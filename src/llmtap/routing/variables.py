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

import functools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from llmtap.labels.policy import ATTRIBUTE_PREFIX, is_llm_span
from llmtap.routing.predicates import ABSENT
from llmtap.routing.references import ALL, NAMES, Needs

# The `trace` fields, in the order `_trace_figures` gives them.
TRACE_ORDER = (
    "trace_id",
    "root_name",
    "duration_ms",
    "error",
    "span_count",
    "model_calls",
    "input_tokens",
    "output_tokens",
    "cost",
)
TRACE_FIELDS = frozenset(TRACE_ORDER)
_TRACE_INDEX = {name: index for index, name in enumerate(TRACE_ORDER)}
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
_LONG = MAX_ATTRIBUTE_CHARS


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


def _attributes(span: SpanFacts, keys: frozenset[str] | None) -> dict[str, Any]:
    attributes = span.attributes
    if keys is not None:
        attributes = {key: attributes[key] for key in keys if key in attributes}
    return {
        key: _plain(value)
        for key, value in attributes.items()
        if not (isinstance(value, str) and len(value) > MAX_ATTRIBUTE_CHARS)
    }


_OPERATION = gen_ai.GEN_AI_OPERATION_NAME
_PROVIDER = gen_ai.GEN_AI_PROVIDER_NAME
_INPUT = gen_ai.GEN_AI_USAGE_INPUT_TOKENS
_OUTPUT = gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS

_RESPONSE_MODEL = gen_ai.GEN_AI_RESPONSE_MODEL
_REQUEST_MODEL = gen_ai.GEN_AI_REQUEST_MODEL
_START = operator.attrgetter("start_ns")
_TIME = operator.attrgetter("time_ns")

# How each span field is read, for a list of spans at once (a column); `attributes` is built by
# `_attributes` (it may be cut to the keys rules read). Each field has one type, whatever the span.
_COLUMNS: dict[str, Callable[[Sequence[SpanFacts]], list[Any]]] = {
    "span_id": lambda spans: [span.span_id for span in spans],
    "parent_span_id": lambda spans: [span.parent_span_id or "" for span in spans],
    "name": lambda spans: [span.name for span in spans],
    "kind": lambda spans: [span.kind for span in spans],
    "operation": lambda spans: [str(span.attributes.get(_OPERATION, "")) for span in spans],
    "provider": lambda spans: [str(span.attributes.get(_PROVIDER, "")) for span in spans],
    "model": lambda spans: [
        str(attributes.get(_RESPONSE_MODEL) or attributes.get(_REQUEST_MODEL) or "")
        for attributes in map(_ATTRIBUTES, spans)
    ],
    "status": lambda spans: [span.status for span in spans],
    "error_type": lambda spans: [str(span.attributes.get("error.type", "")) for span in spans],
    "duration_ms": lambda spans: [(span.end_ns - span.start_ns) / 1e6 for span in spans],
    "input_tokens": lambda spans: [_count(span.attributes.get(_INPUT)) for span in spans],
    "output_tokens": lambda spans: [_count(span.attributes.get(_OUTPUT)) for span in spans],
    "cost": lambda spans: [_cost(span.attributes) for span in spans],
}
_ATTRIBUTES = operator.attrgetter("attributes")
ATTRIBUTE_STRINGS = ("operation", "provider", "model", "error_type")  # string span fields read from attributes


def _attribute_strings(spans: Sequence[SpanFacts]) -> tuple[list[str], ...]:
    """The `ATTRIBUTE_STRINGS` columns, as `_COLUMNS` makes them, in one pass."""
    operations: list[str] = []
    providers: list[str] = []
    models: list[str] = []
    errors: list[str] = []
    for attributes in map(_ATTRIBUTES, spans):
        operations.append(str(attributes.get(_OPERATION, "")))
        providers.append(str(attributes.get(_PROVIDER, "")))
        models.append(str(attributes.get(_RESPONSE_MODEL) or attributes.get(_REQUEST_MODEL) or ""))
        errors.append(str(attributes.get("error.type", "")))
    return operations, providers, models, errors
# Span fields that are the `SpanFacts` attribute as it is (as in `_COLUMNS`).
_PLAIN_FIELDS = {name: operator.attrgetter(name) for name in ("span_id", "name", "kind", "status")}


def _span_fields(needs: Needs) -> list[str]:
    """The span fields `needs` asks for, `attributes` last."""
    fields = SPAN_FIELDS if needs.span_fields is None else needs.span_fields & SPAN_FIELDS
    return [name for name in FIELD_ORDER if name in fields]


FIELD_ORDER = (*_COLUMNS, "attributes")


def _span_variable(span: SpanFacts, needs: Needs = ALL) -> dict[str, Any]:
    """The span as a condition sees it: every field, or only those `needs` says rules can read."""
    value = {}
    for name in _span_fields(needs):
        value[name] = _attributes(span, needs.attribute_keys) if name == "attributes" else _COLUMNS[name]([span])[0]
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


def _trace_figures(ordered: Sequence[SpanFacts], root: SpanFacts | None) -> tuple[Any, ...]:
    """The `trace` fields, in `TRACE_ORDER`, in one pass over the spans (sorted by start)."""
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
        if span.kind == "CLIENT" and is_llm_span(attributes):
            calls += 1
            value = attributes.get(_INPUT)
            if type(value) is int:
                input_tokens += value
            value = attributes.get(_OUTPUT)
            if type(value) is int:
                output_tokens += value
        if COST in attributes:
            cost += _cost(attributes)
    first = ordered[0] if ordered else None
    return (
        first.trace_id if first else "",
        root.name if root else "",
        (end - first.start_ns) / 1e6 if first else 0.0,
        error,
        len(ordered),
        calls,
        input_tokens,
        output_tokens,
        cost,
    )


def _labels(ordered: Sequence[SpanFacts], root: SpanFacts | None, keys: frozenset[str] | None) -> dict[str, Any]:
    """`llmtap.tag.*` attributes, the root's first, then each span's in start order (the first value wins);
    only `keys` when given."""
    spans = [root, *ordered] if root else ordered
    if keys is not None:
        labels: dict[str, Any] = {}
        for key, name in _attribute_names(keys):
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


@functools.lru_cache(maxsize=64)
def _attribute_names(keys: frozenset[str]) -> list[tuple[str, str]]:
    """Each label key with its attribute's name."""
    return [(key, ATTRIBUTE_PREFIX + key) for key in sorted(keys)]


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
    view = TraceView(spans, annotations)
    return {name: view.variable(name, needs) for name in _ORDER if name in needs.names}


_ORDER = ("trace", "labels", "annotations", "annotation_history", "spans", "root")
_UNSET: Any = object()


class TraceView:
    """One trace's facts, and what its variables are made of, each computed when first asked for (the
    routing thread builds only what the enabled rules read: `flatten`)."""

    def __init__(
        self, spans: Sequence[SpanFacts], annotations: Iterable[AnnotationFacts] = (), together: bool = False
    ) -> None:
        """`together`: read the string fields that come from span attributes (`ATTRIBUTE_STRINGS`) in one pass
        over the spans, the first time one is asked for (cheaper when most of them will be)."""
        self._together = together
        self._spans = spans
        self._annotations = annotations
        self._ordered: list[SpanFacts] | None = None
        self._root: SpanFacts | None = _UNSET
        self._columns: dict[str, list[Any]] = {}
        self._variables: dict[str, Any] = {}
        self._latest: tuple[dict[str, Any], dict[str, list[Any]]] | None = None
        self._figures: tuple[Any, ...] | None = None
        self._root_fields: dict[str, Any] = {}

    @property
    def ordered(self) -> list[SpanFacts]:
        """The spans by start time."""
        if self._ordered is None:
            self._ordered = sorted(self._spans, key=_START)
        return self._ordered

    @property
    def root(self) -> SpanFacts | None:
        if self._root is _UNSET:
            self._root = None
            ordered = self.ordered
            ids = {span.span_id for span in ordered}
            for span in ordered:  # `local_root`: the first by start of those without a parent here
                if span.parent_span_id is None or span.remote_parent or span.parent_span_id not in ids:
                    self._root = span
                    break
        return self._root

    def figures(self) -> tuple[Any, ...]:
        """The `trace` fields, in `TRACE_ORDER`."""
        if self._figures is None:
            self._figures = _trace_figures(self.ordered, self.root)
        return self._figures

    def column(self, name: str) -> list[Any]:
        """The span field `name` (not `attributes`) of each span, in start order."""
        found = self._columns.get(name)
        if found is None:
            if self._together and name in ATTRIBUTE_STRINGS:
                self._columns.update(zip(ATTRIBUTE_STRINGS, _attribute_strings(self.ordered), strict=True))
                return self._columns[name]
            found = self._columns[name] = _COLUMNS[name](self.ordered)
        return found

    def attribute_column(self, key: str) -> list[Any]:
        """The attribute `key` of each span, in start order, as a condition sees it (`predicates.ABSENT`
        where the span lacks it, or its value is left out as too long)."""
        found = self._columns.get(" " + key)  # attribute keys and field names kept apart by a prefix
        if found is None:
            found = self._columns[" " + key] = [
                ABSENT if isinstance(value := span.attributes.get(key, ABSENT), str) and len(value) > _LONG else value
                for span in self.ordered
            ]  # a sequence as it is (tuple or list): `predicates` decide only on str, int, float and bool values
        return found

    def attributes(self, keys: frozenset[str] | None) -> list[dict[str, Any]]:
        return [_attributes(span, keys) for span in self.ordered]

    def field(self, owner: str, name: str) -> Any:
        """`trace.name` or `root.name` (not `attributes`)."""
        if owner == "trace":
            return self.figures()[_TRACE_INDEX[name]]
        found = self._root_fields.get(name, _UNSET)
        if found is _UNSET:
            found = self._root_fields[name] = self.root_field(name, ALL)
        return found

    def root_field(self, name: str, needs: Needs) -> Any:
        """The field `name` of `root`."""
        root = self.root
        if root is None:
            return {} if name == "attributes" else _EMPTY_SPAN[name]
        if name == "attributes":
            return _attributes(root, needs.attribute_keys)
        plain = _PLAIN_FIELDS.get(name)
        return plain(root) if plain is not None else _COLUMNS[name]([root])[0]

    def _annotated(self) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        if self._latest is None:
            latest: dict[str, Any] = {}
            history: dict[str, list[Any]] = {}
            for annotation in sorted(self._annotations, key=_TIME):
                latest[annotation.name] = annotation.value
                history.setdefault(annotation.name, []).append(annotation.value)
            self._latest = latest, history
        return self._latest

    def variable(self, name: str, needs: Needs = ALL) -> Any:
        """The variable `name` (one of `NAMES`) with what `needs` asks of it; the same `needs` each call."""
        found = self._variables.get(name, _UNSET)
        if found is _UNSET:
            found = self._variables[name] = self._build(name, needs)
        return found

    def _build(self, name: str, needs: Needs) -> Any:
        if name == "trace":
            fields = TRACE_FIELDS if needs.trace_fields is None else needs.trace_fields
            return {name: value for name, value in zip(TRACE_ORDER, self.figures(), strict=True) if name in fields}
        if name == "labels":
            return _labels(self.ordered, self.root, needs.label_keys)
        if name == "annotations":
            return _only(self._annotated()[0], needs.annotation_keys)
        if name == "annotation_history":
            return _only(self._annotated()[1], needs.history_keys)
        if name == "spans":
            fields = _span_fields(needs)
            plain = [field for field in fields if field != "attributes"]
            columns = [self.column(field) for field in plain]
            spans = [dict(zip(plain, row, strict=True)) for row in zip(*columns, strict=True)] if plain else None
            if spans is None:
                spans = [{} for _ in self.ordered]
            if "attributes" in fields:
                for span, attributes in zip(spans, self.attributes(needs.attribute_keys), strict=True):
                    span["attributes"] = attributes
            return spans
        if name == "root":
            return _span_variable(self.root, needs) if self.root else _empty_span(needs)
        raise KeyError(name)


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
