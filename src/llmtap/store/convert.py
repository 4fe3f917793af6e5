"""Turning OpenTelemetry spans into store rows: JSON columns, derived columns, facets and searchable text.

This is the store's ingest hot path (it runs on the exporter's thread for every span): JSON is written and
parsed with orjson, and every value is computed once per span.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from llmtap.labels.policy import ATTRIBUTE_PREFIX as LABEL_PREFIX

# Attributes whose text is searched (`llmtap traces --search`): captured prompts, completions, tool I/O, RAG.
TEXT_ATTRIBUTES = (
    gen_ai.GEN_AI_SYSTEM_INSTRUCTIONS,
    gen_ai.GEN_AI_INPUT_MESSAGES,
    gen_ai.GEN_AI_OUTPUT_MESSAGES,
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "gen_ai.retrieval.query.text",
    "gen_ai.retrieval.documents",
)
# Keys of the semantic conventions' message shape whose values are structure, not text.
_STRUCTURAL_KEYS = frozenset({"type", "role", "finish_reason", "id", "mime_type", "modality", "score"})
_MODEL_OPERATIONS_KIND = "CLIENT"
_REQUEST_MODEL = gen_ai.GEN_AI_REQUEST_MODEL
_RESPONSE_MODEL = gen_ai.GEN_AI_RESPONSE_MODEL
_PROVIDER = gen_ai.GEN_AI_PROVIDER_NAME
_SYSTEM = gen_ai.GEN_AI_SYSTEM
_OPERATION = gen_ai.GEN_AI_OPERATION_NAME
_INPUT_TOKENS = gen_ai.GEN_AI_USAGE_INPUT_TOKENS
_OUTPUT_TOKENS = gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS
_LABEL_CUT = len(LABEL_PREFIX)
Facet = tuple[str, str, str]  # (facet, value, trace id): `label:<key>` / `model` / `provider`


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


# The standard library's encoder: stable output (resource digests), and the fallback for what orjson refuses
# (integers beyond 64 bits, strings with lone surrogates: escaped, so SQLite can store them).
canonical_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_jsonable).encode
_escaped_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), default=_jsonable).encode


def dumps(value: Any) -> str:
    """Compact JSON text (tuples as lists, non-ASCII kept), ten times faster than `json.dumps`."""
    try:
        return orjson.dumps(value, default=_jsonable).decode()
    except (TypeError, orjson.JSONEncodeError):
        return _escaped_dumps(value)


def loads(text: str) -> Any:
    """JSON text as Python values: orjson, or the standard library for what it refuses (`NaN`, which older
    versions of the store wrote for a float NaN)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def plain(attributes: Any) -> dict[str, Any]:
    """Attributes as a plain dict. The SDK's `BoundedAttributes` keeps one (`_dict`): reading it is twenty times
    faster than iterating the mapping, which takes a lock per item."""
    inner = getattr(attributes, "_dict", None)
    if isinstance(inner, dict):
        return inner
    return dict(attributes) if attributes else {}


def label_text(value: Any) -> str:
    """A label value as the user types it in a filter: `true`, `3`, `v2`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def labels_of(attributes: Mapping[str, Any]) -> dict[str, str]:
    keys = tuple(attributes)  # spans mostly share a few sets of attribute keys: the label keys of each are known
    found = _LABEL_KEYS.get(keys)
    if found is None:
        if len(_LABEL_KEYS) >= _LABEL_KEYS_KEPT:
            _LABEL_KEYS.clear()
        found = _LABEL_KEYS[keys] = tuple((key, key[_LABEL_CUT:]) for key in keys if key[:_LABEL_CUT] == LABEL_PREFIX)
    labels = {}
    for key, name in found:
        value = attributes[key]
        labels[name] = value if value.__class__ is str else label_text(value)
    return labels


# Attribute key sets seen -> their (label attribute, label key) pairs; ~2 µs per span less than testing every key.
_LABEL_KEYS: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
_LABEL_KEYS_KEPT = 1024


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _strings(node: Any, out: list[str]) -> None:
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key not in _STRUCTURAL_KEYS:
                _strings(value, out)
    elif isinstance(node, list | tuple):
        for item in node:
            _strings(item, out)


# `"key":"value"` pairs of a JSON text (values with escapes included). What `searchable_text` finds in a JSON
# text is defined by this expression: the full-text index is contentless, so the text must stay the same.
_PAIR = re.compile(r'"([^"\\]*)"\s*:\s*"([^"\\]*(?:\\.[^"\\]*)*)"')


_ESCAPED_QUOTE_OR_NEWLINE = re.compile(r'\\["\n]')  # one scan (two `in` tests of two characters: five times slower)


def _pairs(text: str) -> list[tuple[str, str]]:
    """`_PAIR.findall(text)`, faster: when no quote in the text is escaped, every quote delimits a string, so
    the text split at its quotes gives the pairs directly (`key`, `: `, `value` between four quotes)."""
    if _ESCAPED_QUOTE_OR_NEWLINE.search(text):  # an escaped quote, or a backslash `.` does not match: the slow way
        return _PAIR.findall(text)
    parts = text.split('"')
    found = []
    last = len(parts) - 5  # quote j (after parts[j]) starts a match that ends at quote j + 3
    j = 0
    while j <= last:
        key = parts[j + 1]
        if "\\" not in key and parts[j + 2].strip() == ":":
            found.append((key, parts[j + 3]))
            j += 4
        else:
            j += 1
    return found


def _unescape(value: str) -> str:
    try:
        return orjson.loads(f'"{value}"')
    except orjson.JSONDecodeError:
        try:
            return json.loads(f'"{value}"')
        except ValueError:
            return value


def _json_strings(text: str, out: list[str]) -> None:
    for key, value in _pairs(text):
        if key in _STRUCTURAL_KEYS:
            continue
        out.append(_unescape(value) if "\\" in value else value)


def searchable_text(attributes: Mapping[str, Any]) -> str:
    """The words of the captured content of a span: the string values of its JSON messages (not the keys, nor
    structural values such as roles and part types), and plain text attributes as they are.

    The full-text index is contentless: purging a span tells it the span's text again, computed from the stored
    attributes by this function. Changing what it returns needs a schema migration that rebuilds the index.
    """
    out: list[str] = []
    for name in TEXT_ATTRIBUTES:
        value = attributes.get(name)
        if value is None:
            continue
        if isinstance(value, str) and value[:1] in ("[", "{"):
            if name is _INSTRUCTIONS and len(value) <= _INSTRUCTIONS_KEPT_CHARS:
                found = _INSTRUCTION_STRINGS.get(value)
                if found is None:
                    found = []
                    _json_strings(value, found)
                    if len(_INSTRUCTION_STRINGS) >= _INSTRUCTIONS_KEPT:
                        _INSTRUCTION_STRINGS.clear()
                    _INSTRUCTION_STRINGS[value] = found
                out += found
            else:
                _json_strings(value, out)
        else:
            _strings(value, out)
    return "\n".join(out)


# An application sends the same system instructions with call after call: their strings are found once.
_INSTRUCTIONS = gen_ai.GEN_AI_SYSTEM_INSTRUCTIONS
_INSTRUCTION_STRINGS: dict[str, list[str]] = {}
_INSTRUCTIONS_KEPT = 256
_INSTRUCTIONS_KEPT_CHARS = 16_384


def models_and_provider(attributes: Mapping[str, Any]) -> tuple[list[str], str | None]:
    """The models a span names (requested, then responding) and its provider."""
    get = attributes.get
    request_model = get(_REQUEST_MODEL)
    response_model = get(_RESPONSE_MODEL)
    models = [str(m) for m in (request_model, response_model) if m] if request_model or response_model else []
    provider = get(_PROVIDER) or get(_SYSTEM)
    return models, str(provider) if provider else None


def facets_of(
    trace_id: str, labels: Iterable[tuple[str, str]], models: Iterable[str], providers: Iterable[str]
) -> list[Facet]:
    """The `trace_facets` rows of a trace with these (label key, value) pairs, models and providers."""
    facets = [(f"label:{key}", value, trace_id) for key, value in labels]
    facets += [("model", model, trace_id) for model in models]
    facets += [("provider", provider, trace_id) for provider in providers]
    return facets


# The `spans` columns of `SpanRow.values`, then the four the store adds.
SPAN_COLUMNS = (
    "trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, status_code, status_description, attributes, "
    "events, links, model, provider, is_model_call, input_tokens, output_tokens, error, resource_id, scope_id, rowid, "
    "text_rowid"
)


def _hex_ids(context: Any) -> tuple[str, str]:
    return "%032x" % context.trace_id, "%016x" % context.span_id  # noqa: UP031 - faster than format() or f-strings


# Bound as SQL NULL where a row has no value: SQLite stores a NaN double as NULL, and the sqlite3 module binds a float
# directly while it looks `None` up in its adapter registry first (~1 µs per value).
NULL = float("nan")


def _null(value: Any) -> Any:
    return NULL if value is None else value


class SpanRow:
    """One span ready for insertion, with the values derived from its attributes."""

    __slots__ = (
        "attributes",
        "end_ns",
        "error",
        "events",
        "input_tokens",
        "is_model_call",
        "kind",
        "labels",
        "links",
        "model",
        "models",
        "name",
        "output_tokens",
        "parent_span_id",
        "part",
        "provider",
        "resource",
        "scope",
        "span_id",
        "start_ns",
        "status_code",
        "status_description",
        "text",
        "trace_id",
        "values",
    )

    def __init__(self, span: Any) -> None:
        if span.__class__ in _SDK_SPANS:  # the SDK's spans: their fields, without a property call each
            context, parent, name, kind, start, end = (
                span._context,
                span._parent,
                span._name,
                span._kind,
                span._start_time,
                span._end_time,
            )
            status, attributes, events, links = span._status, span._attributes, span._events, span._links
            self.resource, self.scope = span._resource, span._instrumentation_scope
            # An ended span's events and links no longer change: their `BoundedList`'s deque, without a Python call
            # (its `__len__`) to test whether there are any.
            events = getattr(events, "_dq", events)
            links = getattr(links, "_dq", links)
        else:
            context, parent, name, kind, start, end = (
                span.context,
                span.parent,
                span.name,
                span.kind,
                span.start_time,
                span.end_time,
            )
            status, attributes, events, links = span.status, span.attributes, span.events, span.links
            self.resource, self.scope = span.resource, span.instrumentation_scope
        self.trace_id = trace_id = "%032x" % context.trace_id  # noqa: UP031
        self.span_id = span_id = "%016x" % context.span_id  # noqa: UP031
        self.parent_span_id = parent_id = "%016x" % parent.span_id if parent is not None else None  # noqa: UP031
        self.name = name
        self.kind = kind = kind._name_  # the enum member's name, without `Enum.__hash__` (Python) or `.name`
        self.start_ns = start = start or 0
        self.end_ns = end = end or start
        code = status.status_code
        self.status_code = code = code._name_
        self.status_description = description = status.description
        self.error = error = int(code == "ERROR")
        attributes = plain(attributes)
        self.attributes = attributes_json = dumps(attributes)
        self.events = (
            dumps(
                [
                    {"name": event.name, "time_ns": event.timestamp, "attributes": plain(event.attributes)}
                    for event in events
                ]
            )
            if events
            else "[]"
        )
        self.links = (
            dumps(
                [
                    {
                        "trace_id": format(link.context.trace_id, "032x"),
                        "span_id": format(link.context.span_id, "016x"),
                        "attributes": plain(link.attributes),
                    }
                    for link in links
                ]
            )
            if links
            else "[]"
        )
        get = attributes.get
        request_model = get(_REQUEST_MODEL)
        response_model = get(_RESPONSE_MODEL)
        if request_model or response_model:
            # Tuples: the garbage collector stops tracking a tuple of strings (fewer objects for it to walk).
            self.models = models = tuple([str(m) for m in (request_model, response_model) if m])
            self.model = model = models[0]
        else:
            self.models, self.model = (), None
            model = NULL
        provider = get(_PROVIDER) or get(_SYSTEM)
        self.provider = provider = str(provider) if provider else None
        self.is_model_call = calls = int(kind == _MODEL_OPERATIONS_KIND and _OPERATION in attributes)
        tokens_in = get(_INPUT_TOKENS)
        self.input_tokens = tokens_in = tokens_in if tokens_in.__class__ is int else _int_or_none(tokens_in)
        tokens_out = get(_OUTPUT_TOKENS)
        self.output_tokens = tokens_out = tokens_out if tokens_out.__class__ is int else _int_or_none(tokens_out)
        self.labels = labels_of(attributes)
        self.text = searchable_text(attributes)
        self.part = None
        # The `spans` row (see `row_values`), built here rather than by a call.
        self.values = (
            trace_id,
            span_id,
            NULL if parent_id is None else parent_id,
            name,
            kind,
            start,
            end,
            code,
            NULL if description is None else description,
            attributes_json,
            self.events,
            self.links,
            model,
            NULL if provider is None else provider,
            calls,
            NULL if tokens_in is None else tokens_in,
            NULL if tokens_out is None else tokens_out,
            error,
        )

    def row_values(self) -> tuple[Any, ...]:
        """The `spans` row's columns in `SPAN_COLUMNS` order, but for the four the store adds when it writes the
        row (`resource_id`, `scope_id`, `rowid`, `text_rowid`): computed with the row, on the converting thread. A
        row changed after it was made (e.g. copied with other ids) takes `row.values = row.row_values()`. `NULL`
        stands for None."""
        return (
            self.trace_id,
            self.span_id,
            _null(self.parent_span_id),
            self.name,
            self.kind,
            self.start_ns,
            self.end_ns,
            self.status_code,
            _null(self.status_description),
            self.attributes,
            self.events,
            self.links,
            _null(self.model),
            _null(self.provider),
            self.is_model_call,
            _null(self.input_tokens),
            _null(self.output_tokens),
            self.error,
        )


_SDK_FIELDS = (
    "_context", "_parent", "_name", "_kind", "_start_time", "_end_time", "_status", "_attributes", "_events",
    "_links", "_resource", "_instrumentation_scope",
)  # fmt: skip


def _sdk_span_classes() -> frozenset[type]:
    """The SDK's span classes whose private fields `SpanRow` reads directly: none when this SDK version lacks one of
    them (a release that renamed a field), so its spans are then read through their public properties."""
    probe = ReadableSpan(name="probe", resource=Resource({}))  # an explicit resource: no detectors run (at exit)
    return frozenset({ReadableSpan, SdkSpan}) if all(hasattr(probe, field) for field in _SDK_FIELDS) else frozenset()


_SDK_SPANS = _sdk_span_classes()


class TracePart:
    """What some spans of one trace add to its summary (a `traces` row) and its facets. `summarize` computes them
    for a batch on the converting thread; the store merges each into the trace's stored summary, if any."""

    __slots__ = (
        "calls",
        "count",
        "end_ns",
        "error",
        "facet_models",
        "facet_providers",
        "facet_rows",
        "label_pairs",
        "labels",
        "models",
        "providers",
        "root_final",
        "root_id",
        "root_name",
        "row",
        "start_ns",
        "text",
        "tokens_in",
        "tokens_out",
        "trace_id",
    )

    def __init__(self, trace_id: str) -> None:
        self.trace_id = trace_id
        self.text = ""  # with `summarize`: the searchable text of its spans, one per line
        self.root_id = self.root_name = self.start_ns = self.end_ns = None
        self.root_final = self.count = self.calls = self.tokens_in = self.tokens_out = self.error = 0
        self.labels: dict[str, str] = {}
        self.models: list[str] = []
        self.providers: list[str] = []
        self.label_pairs: set[tuple[str, str]] = set()
        self.facet_models: set[str] = set()
        self.facet_providers: set[str] = set()
        self.row: tuple[Any, ...] | None = None
        self.facet_rows: list[Facet] | None = None

    @classmethod
    def stored(cls, row: tuple[Any, ...]) -> TracePart:
        """The summary of a trace as stored (a `traces` row), to merge more spans into (it has no facets)."""
        part = cls(row[0])
        (part.root_id, part.root_name, part.root_final, part.start_ns, part.end_ns, part.count, part.calls) = row[1:8]
        part.tokens_in, part.tokens_out, part.error = row[8:11]
        part.labels, part.models, part.providers = loads(row[11]), loads(row[12]), loads(row[13])
        return part

    def add(self, spans: Iterable[SpanRow]) -> None:
        """Count these spans (in this order) in the summary; their facets are noted."""
        root_final, start_ns, end_ns = self.root_final, self.start_ns, self.end_ns
        count, calls, tokens_in, tokens_out, error = self.count, self.calls, self.tokens_in, self.tokens_out, self.error
        labels, models, providers = self.labels, self.models, self.providers
        seen_labels: dict[str, str] | None = None
        for span in spans:
            is_root = span.parent_span_id is None
            if (is_root and not root_final) or (not root_final and (start_ns is None or span.start_ns < start_ns)):
                self.root_id, self.root_name, root_final = span.span_id, span.name, int(is_root)
            start_ns = span.start_ns if start_ns is None or span.start_ns < start_ns else start_ns
            end_ns = span.end_ns if end_ns is None or span.end_ns > end_ns else end_ns
            count += 1
            calls += span.is_model_call
            tokens_in += span.input_tokens or 0
            tokens_out += span.output_tokens or 0
            error = error or span.error
            span_labels = span.labels
            if span_labels and span_labels != seen_labels:  # the spans of a trace mostly carry the same labels
                seen_labels = span_labels
                labels.update(span_labels)
                self.label_pairs.update(span_labels.items())
            if span.models:
                self.facet_models.update(span.models)
                if span.model not in models:
                    models.append(span.model)
            if span.provider:
                self.facet_providers.add(span.provider)
                if span.provider not in providers:
                    providers.append(span.provider)
        self.root_final, self.start_ns, self.end_ns = root_final, start_ns, end_ns
        self.count, self.calls, self.tokens_in, self.tokens_out, self.error = count, calls, tokens_in, tokens_out, error
        self.row = self.facet_rows = None

    def merged(self, later: TracePart) -> TracePart:
        """A new part: this one, then `later` (the same as adding their spans one after the other)."""
        out = TracePart(self.trace_id)
        if self.root_final or (not later.root_final and self.start_ns is not None and later.start_ns >= self.start_ns):
            out.root_id, out.root_name, out.root_final = self.root_id, self.root_name, self.root_final
        else:
            out.root_id, out.root_name, out.root_final = later.root_id, later.root_name, later.root_final
        out.start_ns = later.start_ns if self.start_ns is None else min(self.start_ns, later.start_ns)
        out.end_ns = later.end_ns if self.end_ns is None else max(self.end_ns, later.end_ns)
        out.count = self.count + later.count
        out.calls = self.calls + later.calls
        out.tokens_in = self.tokens_in + later.tokens_in
        out.tokens_out = self.tokens_out + later.tokens_out
        out.error = self.error or later.error
        out.labels = {**self.labels, **later.labels}
        out.models = self.models + [model for model in later.models if model not in self.models]
        out.providers = self.providers + [provider for provider in later.providers if provider not in self.providers]
        return out

    def summary(self) -> tuple[Any, ...]:
        """The trace's `traces` row."""
        if self.row is None:
            self.row = (
                self.trace_id,
                self.root_id,
                self.root_name,
                self.root_final,
                self.start_ns,
                self.end_ns,
                self.count,
                self.calls,
                self.tokens_in,
                self.tokens_out,
                self.error,
                dumps(self.labels),
                dumps(self.models),
                dumps(self.providers),
            )
        return self.row

    def facets(self) -> list[Facet]:
        if self.facet_rows is None:
            self.facet_rows = facets_of(self.trace_id, self.label_pairs, self.facet_models, self.facet_providers)
        return self.facet_rows


_NONE: frozenset[Any] = frozenset()


def summarize(rows: Sequence[SpanRow], *, keep: bool = True) -> list[TracePart]:
    """What the spans of each trace in `rows` add to its summary (in the order the traces first appear), with its
    `traces` row and its spans' text; with `keep`, each part is also kept on its rows (`row.part`), for the store to
    use as it is."""
    by_trace: dict[str, list[SpanRow]] = {}
    for row in rows:
        spans = by_trace.get(row.trace_id)
        if spans is None:
            by_trace[row.trace_id] = [row]
        else:
            spans.append(row)
    parts = []
    for trace_id, spans in by_trace.items():
        part = TracePart(trace_id)
        part.add(spans)
        part.text = "\n".join([span.text for span in spans if span.text])
        if keep:  # what the store takes, computed here
            part.summary()
            part.facets()
            part.label_pairs = part.facet_models = part.facet_providers = _NONE  # fewer objects for the collector
            for span in spans:
                span.part = part
        parts.append(part)
    return parts
