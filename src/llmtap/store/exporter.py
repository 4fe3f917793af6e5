"""OpenTelemetry exporters into the store: spans (behind the SDK's BatchSpanProcessor) and annotation log
records (behind a BatchLogRecordProcessor). They run on the processors' worker threads, never on the
application's.

The store is opened on the first export. When it cannot be opened or written, the problem is logged once
(at WARNING, naming the file and the cause), the records are held in memory and retried with the next
export, up to `max_pending` records (the oldest beyond that are dropped and counted), and the application
keeps running.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID

from llmtap.annotations import attributes as names
from llmtap.safety import logger
from llmtap.store.api import Store, StoredAnnotation, StoreError
from llmtap.store.sqlite import SQLiteStore, describe_error

DEFAULT_MAX_PENDING = 20_000
EVALUATION_EVENT = "gen_ai.evaluation.result"
_ANNOTATION_PREFIX = "llmtap.annotation."

Item = TypeVar("Item")


class StoreWriter(Generic[Item]):
    """Writes batches into the store at `path`, holding them (bounded) while the store is unusable."""

    def __init__(self, path: str | Path, what: str, write: Callable[[Store, list[Item]], int], max_pending: int):
        self.path = str(path)
        self._what = what
        self._write = write
        self._max_pending = max_pending
        self._pending: list[Item] = []
        self._store: Store | None = None
        self._lock = threading.Lock()
        self._reported: str | None = None
        self.dropped = 0
        self.written = 0
        self._closed = False

    def write(self, items: Sequence[Item]) -> bool:
        with self._lock:
            if self._closed:
                return False
            batch = [*self._pending, *items]
            if not batch:
                return True
            try:
                if self._store is None:
                    self._store = SQLiteStore(Path(self.path))
                self.written += self._write(self._store, batch)
            except Exception as exc:
                self._hold(batch, exc)
                return False
            self._pending = []
            if self._reported is not None:
                logger.warning("llmtap: the local store %s is usable again; %s are being stored", self.path, self._what)
                self._reported = None
            return True

    def _hold(self, batch: list[Item], exc: Exception) -> None:
        error = describe_error(exc, self.path)
        if not isinstance(exc, StoreError | OSError) and "sqlite" not in type(exc).__module__:
            error = StoreError(f"the llmtap store {self.path} cannot be written ({type(exc).__name__}: {exc})")
        overflow = len(batch) - self._max_pending
        if overflow > 0:
            self.dropped += overflow
            batch = batch[overflow:]
        self._pending = batch
        message = str(error)
        if message != self._reported:  # once per distinct problem, not once per batch
            self._reported = message
            logger.warning(
                "llmtap: %s; %s are kept in memory and retried (up to %d), the application is unaffected "
                "(LLMTAP_STORE=off turns the store off)",
                message,
                self._what,
                self._max_pending,
            )
        if self._store is not None and isinstance(exc, StoreError) and "corrupted" in message:
            self._close_store()

    def _close_store(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            try:
                store.close()
            except Exception:
                pass

    @property
    def pending(self) -> int:
        return len(self._pending)

    def shutdown(self) -> None:
        if self._pending:
            self.write(())
        with self._lock:
            self._closed = True
            lost = self.dropped + len(self._pending)
            if lost:
                logger.warning("llmtap: %d %s could not be written to the local store %s", lost, self._what, self.path)
            self._pending = []
            self._close_store()


class StoreSpanExporter(SpanExporter):
    """A `SpanExporter` writing finished spans into the store at `path` (use it behind a BatchSpanProcessor)."""

    def __init__(self, path: str | Path, *, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self.writer: StoreWriter[Any] = StoreWriter(
            path, "spans", lambda store, batch: store.write_spans(batch), max_pending
        )

    @property
    def path(self) -> str:
        return self.writer.path

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS if self.writer.write(spans) else SpanExportResult.FAILURE

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.writer.write(())

    def shutdown(self) -> None:
        self.writer.shutdown()


def annotation_from_log(log_record: Any) -> StoredAnnotation | None:
    """The annotation an OTel log record `gen_ai.evaluation.result` carries (None for other records)."""
    attributes = dict(log_record.attributes or {})
    if getattr(log_record, "event_name", None) != EVALUATION_EVENT and gen_ai.GEN_AI_EVALUATION_NAME not in attributes:
        return None
    ours = {
        key[len(_ANNOTATION_PREFIX) :]: value for key, value in attributes.items() if key.startswith(_ANNOTATION_PREFIX)
    }
    score = attributes.get(gen_ai.GEN_AI_EVALUATION_SCORE_VALUE)
    label = attributes.get(gen_ai.GEN_AI_EVALUATION_SCORE_LABEL)
    value = _json_or(ours.get("value"), label if label is not None else score)
    trace_id = getattr(log_record, "trace_id", 0) or 0
    span_id = getattr(log_record, "span_id", 0) or 0
    annotation_id = ours.get("id") or f"{trace_id:032x}-{span_id:016x}-{log_record.timestamp or 0}"
    return StoredAnnotation(
        annotation_id=str(annotation_id),
        name=str(attributes.get(gen_ai.GEN_AI_EVALUATION_NAME, "")),
        value=value,
        trace_id=f"{trace_id:032x}" if trace_id else None,
        span_id=f"{span_id:016x}" if span_id else None,
        score=float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None,
        label=str(label) if label is not None else None,
        explanation=_str_or_none(attributes.get(gen_ai.GEN_AI_EVALUATION_EXPLANATION)),
        annotator=_str_or_none(ours.get("annotator")),
        annotator_kind=_str_or_none(ours.get("annotator_kind")),
        schema_version=_str_or_none(ours.get("schema_version")),
        target=_json_or(ours.get("target"), None) or _target(attributes, trace_id, span_id),
        metadata=_json_or(ours.get("metadata"), {}),
        attributes={key: list(value) if isinstance(value, tuple) else value for key, value in attributes.items()},
        time_ns=log_record.timestamp or log_record.observed_timestamp or 0,
    )


def _target(attributes: dict[str, Any], trace_id: int, span_id: int) -> dict[str, Any]:
    """The target of a record `llmtap.annotate()` wrote (`Target.as_dict()`), from its flat attributes."""
    kind = attributes.get(names.TARGET_KIND)
    if kind is None:
        return {}
    target: dict[str, Any] = {"kind": str(kind)}
    if trace_id:
        target["trace_id"] = f"{trace_id:032x}"
    if span_id:
        target["span_id"] = f"{span_id:016x}"
    if SESSION_ID in attributes:
        target["session_id"] = str(attributes[SESSION_ID])
    if names.JOIN_LABEL in attributes and names.JOIN_VALUE in attributes:
        target["join"] = {"label": str(attributes[names.JOIN_LABEL]), "value": str(attributes[names.JOIN_VALUE])}
    return target


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _json_or(raw: Any, default: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return default if raw is None else raw


def _annotations_of(batch: Sequence[Any]) -> list[StoredAnnotation]:
    found = []
    for log_data in batch:
        annotation = annotation_from_log(getattr(log_data, "log_record", log_data))
        if annotation is not None:
            found.append(annotation)
    return found


class StoreLogExporter(LogRecordExporter):
    """A log exporter storing the annotation records (`gen_ai.evaluation.result`); other records are ignored."""

    def __init__(self, path: str | Path, *, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self.writer: StoreWriter[StoredAnnotation] = StoreWriter(
            path, "annotations", lambda store, batch: store.write_annotations(batch), max_pending
        )

    def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
        ok = self.writer.write(_annotations_of(batch))
        return LogRecordExportResult.SUCCESS if ok else LogRecordExportResult.FAILURE

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.writer.write(())

    def shutdown(self) -> None:
        self.writer.shutdown()
