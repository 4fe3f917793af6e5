"""What named LLM-observability backends read beyond the GenAI semantic conventions.

llmtap writes the GenAI conventions everywhere they name something. A few things the conventions define
are not shown by the backends people point OTLP at, because those read other keys for them; the keys
written here (and only here) close those gaps. Read from the backends' own source: Phoenix 20.26
(`phoenix.trace.gen_ai.conversion`, `phoenix.trace.otel`), MLflow 3.17 (`mlflow.tracing.otel.translation`,
its OTLP span store) and Langfuse (its OTLP ingestion processor).

- A span's input and output: Phoenix, MLflow and Langfuse all show OpenInference `input.value` /
  `output.value`; Phoenix reads no `gen_ai.*` key for them on workflow or agent spans.
- The span type: neither Phoenix nor MLflow maps `invoke_workflow` (nor MLflow `retrieval`); both read
  OpenInference `openinference.span.kind`.
- Retrieved documents: Phoenix drops the whole of `gen_ai.retrieval.documents` unless every document has a
  string `id` and a numeric `score` (the conventions require neither); llmtap never invents a score, so for
  such a list it also writes OpenInference's per-document keys, which Phoenix shows without one.
- Labels (opt-in, `LLMTAP_BACKEND_LABELS`): Phoenix filters on the OpenInference `metadata` JSON, Langfuse
  on `langfuse.trace.metadata.<key>`, MLflow on the trace tags it restores from `mlflow.traceTag.<key>`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmtap.content import content_attributes, dumps, text_attribute

# OpenInference (Phoenix's own conventions; also read by MLflow and Langfuse).
SPAN_KIND = "openinference.span.kind"
INPUT_VALUE = "input.value"
INPUT_MIME_TYPE = "input.mime_type"
OUTPUT_VALUE = "output.value"
OUTPUT_MIME_TYPE = "output.mime_type"
DOCUMENTS_PREFIX = "retrieval.documents."
METADATA = "metadata"
# Langfuse: one attribute per top-level trace metadata key.
LANGFUSE_TRACE_METADATA = "langfuse.trace.metadata."
# MLflow: trace tags, restored from the root span's attributes.
MLFLOW_TRACE_TAG = "mlflow.traceTag."

_JSON = "application/json"
_TEXT = "text/plain"

# OpenInference span kinds of the GenAI operations that are not model calls.
SPAN_KINDS = {
    "invoke_workflow": "CHAIN",
    "invoke_agent": "AGENT",
    "execute_tool": "TOOL",
    "retrieval": "RETRIEVER",
}


def io_attributes(name: str, value: Any, limit: int, out: dict[str, Any]) -> None:
    """`value` as OpenInference `input.value` / `output.value` (`name` is "input" or "output") with its
    mime type: a string as text, anything else as JSON; cut to `limit` like every content attribute."""
    key = f"{name}.value"
    if isinstance(value, str):
        text_attribute(key, value, limit, out)
        out[f"{name}.mime_type"] = _TEXT
    else:
        content_attributes(key, value, limit, out)
        out[f"{name}.mime_type"] = _JSON


def phoenix_drops(documents: Sequence[Mapping[str, Any]]) -> bool:
    """Whether Phoenix (20.26) would drop this `gen_ai.retrieval.documents` list: one document without a
    string `id` or a numeric `score` invalidates all of them."""
    return any(
        not isinstance(doc.get("id"), str)
        or isinstance(doc.get("score"), bool)
        or not isinstance(doc.get("score"), int | float)
        for doc in documents
    )


def document_attributes(documents: Sequence[Mapping[str, Any]], limit: int, out: dict[str, Any]) -> None:
    """OpenInference's per-document keys (`retrieval.documents.<i>.document.id|score|content|metadata`)
    for the semantic-convention entries `documents`: only what each entry has, nothing invented."""
    for index, doc in enumerate(documents):
        prefix = f"{DOCUMENTS_PREFIX}{index}.document."
        if doc.get("id") is not None:
            out[prefix + "id"] = str(doc["id"])
        score = doc.get("score")
        if isinstance(score, int | float) and not isinstance(score, bool):
            out[prefix + "score"] = float(score)
        content = doc.get("content")
        if content is not None:
            text_attribute(prefix + "content", content if isinstance(content, str) else dumps(content), limit, out)
        if doc.get("metadata"):
            content_attributes(prefix + "metadata", doc["metadata"], limit, out)


def label_attributes(labels: Mapping[str, Any], metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Span attributes showing `labels` as filterable metadata in Phoenix, Langfuse and MLflow.

    `metadata`: the labels already in the span's Phoenix `metadata` (one JSON value for all of them), which
    `labels` extend.
    """
    attributes: dict[str, Any] = {}
    merged = dict(metadata or {})
    for key, value in labels.items():
        merged[key] = value
        text = str(value).lower() if isinstance(value, bool) else str(value)
        attributes[LANGFUSE_TRACE_METADATA + key] = text
        attributes[MLFLOW_TRACE_TAG + key] = text
    if merged:
        attributes[METADATA] = dumps(merged)
    return attributes
