"""The OpenTelemetry log exporter storing annotation records (`gen_ai.evaluation.result`) into the store, behind a
BatchLogRecordProcessor; on the processor's worker thread, like the span exporter (`llmtap.store.exporter`).
Set up only when annotations are emitted, so recording spans into the store does not import the SDK's logs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID

from llmtap.annotations import attributes as names
from llmtap.store.api import StoredAnnotation
from llmtap.store.exporter import DEFAULT_MAX_PENDING, StoreWriter

EVALUATION_EVENT = "gen_ai.evaluation.result"


def annotation_from_log(log_record: Any) -> StoredAnnotation | None:
    """The annotation a `gen_ai.evaluation.result` log record carries (None for any other record).

    The record's attributes are those `llmtap.annotations` writes: semconv `gen_ai.evaluation.*` plus
    `llmtap.annotation.*` (see `llmtap/annotations/attributes.py`); its trace and span ids are the target's.
    """
    attributes = dict(log_record.attributes or {})
    if getattr(log_record, "event_name", None) != EVALUATION_EVENT and gen_ai.GEN_AI_EVALUATION_NAME not in attributes:
        return None
    score = attributes.get(gen_ai.GEN_AI_EVALUATION_SCORE_VALUE)
    label = attributes.get(gen_ai.GEN_AI_EVALUATION_SCORE_LABEL)
    value = attributes.get(names.VALUE, label if label is not None else score)
    trace_id = f"{log_record.trace_id:032x}" if getattr(log_record, "trace_id", 0) else None
    span_id = f"{log_record.span_id:016x}" if getattr(log_record, "span_id", 0) else None
    target: dict[str, Any] = {"kind": str(attributes.get(names.TARGET_KIND, "span" if span_id else "trace"))}
    if trace_id is not None:
        target["trace_id"] = trace_id
    if span_id is not None:
        target["span_id"] = span_id
    if attributes.get(SESSION_ID) is not None:
        target["session_id"] = str(attributes[SESSION_ID])
    if attributes.get(names.JOIN_LABEL) is not None:
        target["join"] = {"label": str(attributes[names.JOIN_LABEL]), "value": str(attributes.get(names.JOIN_VALUE))}
    time_ns = log_record.timestamp or log_record.observed_timestamp or 0
    schema_version = attributes.get(names.SCHEMA_VERSION)
    return StoredAnnotation(
        annotation_id=str(attributes.get(names.ID) or f"{trace_id}-{span_id}-{time_ns}"),
        name=str(attributes.get(gen_ai.GEN_AI_EVALUATION_NAME, "")),
        value=list(value) if isinstance(value, tuple) else value,
        trace_id=trace_id,
        span_id=span_id,
        score=float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None,
        label=None if label is None else str(label),
        explanation=_str_or_none(attributes.get(gen_ai.GEN_AI_EVALUATION_EXPLANATION)),
        annotator=_str_or_none(attributes.get(names.ANNOTATOR)),
        annotator_kind=_str_or_none(attributes.get(names.ANNOTATOR_KIND)),
        schema_version=schema_version if isinstance(schema_version, int) else None,
        target=target,
        metadata=_json_object(attributes.get(names.METADATA)),
        attributes={key: list(value) if isinstance(value, tuple) else value for key, value in attributes.items()},
        time_ns=time_ns,
    )


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _json_object(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            return {"text": raw}
        return value if isinstance(value, dict) else {"value": value}
    return {}


def _annotations_of(batch: Sequence[Any]) -> list[StoredAnnotation]:
    found = []
    for log_data in batch:
        annotation = annotation_from_log(getattr(log_data, "log_record", log_data))
        if annotation is not None:
            found.append(annotation)
    return found


class StoreLogExporter(LogRecordExporter):
    """A log exporter storing the annotation records (`gen_ai.evaluation.result`); other records are ignored."""

    def __init__(
        self, path: str | Path, *, max_pending: int = DEFAULT_MAX_PENDING, busy_timeout_s: float | None = None
    ) -> None:
        self.writer: StoreWriter[StoredAnnotation] = StoreWriter(
            path, "annotations", lambda store, batch: store.write_annotations(batch), max_pending, busy_timeout_s
        )

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        ok = self.writer.write(_annotations_of(batch))
        return LogRecordExportResult.SUCCESS if ok else LogRecordExportResult.FAILURE

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.writer.write(())

    def shutdown(self) -> None:
        self.writer.shutdown()
