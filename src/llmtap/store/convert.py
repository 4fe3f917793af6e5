"""Turning OpenTelemetry spans into store rows: JSON columns, derived columns, facets and searchable text.

This is the store's ingest hot path (it runs on the exporter's thread for every span): JSON is written and
parsed with orjson, and every value is computed once per span.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.trace import SpanKind, StatusCode

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
# Enum names, looked up rather than read (`Enum.name` is a descriptor call).
_KIND_NAMES = {kind: kind.name for kind in SpanKind}
_STATUS_NAMES = {code: code.name for code in StatusCode}


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
    return {  # `key[:n] == prefix`: faster than `key.startswith(prefix)` (no method call)
        key[_LABEL_CUT:]: value if value.__class__ is str else label_text(value)
        for key, value in attributes.items()
        if key[:_LABEL_CUT] == LABEL_PREFIX
    }


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
            _json_strings(value, out)
        else:
            _strings(value, out)
    return "\n".join(out)


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


# The `spans` columns of `SpanRow.values`, then the three the store adds.
SPAN_COLUMNS = (
    "trace_id, span_id, parent_span_id, name, kind, start_ns, end_ns, status_code, status_description, attributes, "
    "events, links, model, provider, is_model_call, input_tokens, output_tokens, error, resource_id, scope_id, rowid"
)


def _hex_ids(context: Any) -> tuple[str, str]:
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


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
        self.trace_id, self.span_id = _hex_ids(span.context)
        parent = span.parent
        self.parent_span_id = format(parent.span_id, "016x") if parent is not None else None
        self.name = span.name
        kind = span.kind
        self.kind = kind = _KIND_NAMES.get(kind) or kind.name
        self.start_ns = start = span.start_time or 0
        self.end_ns = span.end_time or start
        status = span.status
        code = status.status_code
        self.status_code = _STATUS_NAMES.get(code) or code.name
        self.status_description = status.description
        self.error = int(self.status_code == "ERROR")
        attributes = plain(getattr(span, "_attributes", None) or span.attributes)
        self.attributes = dumps(attributes)
        # The SDK's spans keep their events and links in `_events` / `_links`; the properties copy them.
        events = getattr(span, "_events", None)
        if events is None:
            events = span.events
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
        links = getattr(span, "_links", None)
        if links is None:
            links = span.links
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
        self.resource = span.resource
        self.scope = span.instrumentation_scope
        self.models, self.provider = models_and_provider(attributes)
        self.model = self.models[0] if self.models else None
        self.is_model_call = int(kind == _MODEL_OPERATIONS_KIND and _OPERATION in attributes)
        self.input_tokens = _int_or_none(attributes.get(_INPUT_TOKENS))
        self.output_tokens = _int_or_none(attributes.get(_OUTPUT_TOKENS))
        self.labels = labels_of(attributes)
        self.text = searchable_text(attributes)
        self.values = self.row_values()

    def row_values(self) -> tuple[Any, ...]:
        """The `spans` row's columns in `SPAN_COLUMNS` order, but for the three the store adds when it writes the
        row (`rowid`, `resource_id`, `scope_id`): computed with the row, on the converting thread. A row changed
        after it was made (e.g. copied with other ids) takes `row.values = row.row_values()`."""
        return (
            self.trace_id,
            self.span_id,
            self.parent_span_id,
            self.name,
            self.kind,
            self.start_ns,
            self.end_ns,
            self.status_code,
            self.status_description,
            self.attributes,
            self.events,
            self.links,
            self.model,
            self.provider,
            self.is_model_call,
            self.input_tokens,
            self.output_tokens,
            self.error,
        )
