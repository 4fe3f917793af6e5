"""Turning OpenTelemetry spans into store rows: JSON columns, derived columns, facets and searchable text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

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


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


# One encoder for every row (json.dumps with options builds a new one per call); tuples encode as lists.
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_jsonable).encode


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
    return {
        key[len(LABEL_PREFIX) :]: label_text(value) for key, value in attributes.items() if key.startswith(LABEL_PREFIX)
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


# `"key":"value"` pairs of a JSON text (values with escapes included); one C-level scan instead of parsing.
_PAIR = re.compile(r'"([^"\\]*)"\s*:\s*"([^"\\]*(?:\\.[^"\\]*)*)"')


def _json_strings(text: str, out: list[str]) -> None:
    for key, value in _PAIR.findall(text):
        if key in _STRUCTURAL_KEYS:
            continue
        if "\\" in value:
            try:
                value = json.loads(f'"{value}"')
            except ValueError:
                pass
        out.append(value)


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
    )

    def __init__(self, span: Any) -> None:
        context = span.context
        self.trace_id = format(context.trace_id, "032x")
        self.span_id = format(context.span_id, "016x")
        parent = span.parent
        self.parent_span_id = format(parent.span_id, "016x") if parent is not None else None
        self.name = span.name
        self.kind = span.kind.name
        self.start_ns = span.start_time or 0
        self.end_ns = span.end_time or self.start_ns
        status = span.status
        self.status_code = status.status_code.name
        self.status_description = status.description
        attributes = plain(getattr(span, "_attributes", None) or span.attributes)
        self.attributes = dumps(attributes)
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
        request_model = attributes.get(gen_ai.GEN_AI_REQUEST_MODEL)
        response_model = attributes.get(gen_ai.GEN_AI_RESPONSE_MODEL)
        models = [str(m) for m in (request_model, response_model) if m]
        self.models = models
        self.model = models[0] if models else None
        provider = attributes.get(gen_ai.GEN_AI_PROVIDER_NAME) or attributes.get(gen_ai.GEN_AI_SYSTEM)
        self.provider = str(provider) if provider else None
        self.is_model_call = int(self.kind == _MODEL_OPERATIONS_KIND and gen_ai.GEN_AI_OPERATION_NAME in attributes)
        self.input_tokens = _int_or_none(attributes.get(gen_ai.GEN_AI_USAGE_INPUT_TOKENS))
        self.output_tokens = _int_or_none(attributes.get(gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS))
        self.error = int(self.status_code == "ERROR")
        self.labels = labels_of(attributes)
        self.text = searchable_text(attributes)

    def facets(self) -> Iterable[tuple[str, str, str]]:
        for key, value in self.labels.items():
            yield (f"label:{key}", value, self.trace_id)
        for model in self.models:
            yield ("model", model, self.trace_id)
        if self.provider:
            yield ("provider", self.provider, self.trace_id)
