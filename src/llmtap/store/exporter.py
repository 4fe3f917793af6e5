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

DEFAULT_MAX_PENDING = 20_000
EVALUATION_EVENT = "gen_ai.evaluation.result"

Item = TypeVar("Item")


class StoreWriter(Generic[Item]):
    """Writes batches into the store at `path`, holding them (bounded) while the store is unusable."""

    def __init__(
        self,
        path: str | Path,
        what: str,
        write: Callable[[Store, list[Item]], int],
        max_pending: int,
        busy_timeout_s: float | None = None,
    ):
        self.path = str(path)
        self._busy_timeout_s = busy_timeout_s
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
                    from llmtap.store.sqlite import BUSY_TIMEOUT_S, SQLiteStore  # sqlite3: on the worker thread

                    self._store = SQLiteStore(Path(self.path), busy_timeout_s=self._busy_timeout_s or BUSY_TIMEOUT_S)
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
        from llmtap.store.sqlite import BUSY_TIMEOUT_S, describe_error

        error = describe_error(exc, self.path, self._busy_timeout_s or BUSY_TIMEOUT_S)
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

    def __init__(
        self, path: str | Path, *, max_pending: int = DEFAULT_MAX_PENDING, busy_timeout_s: float | None = None
    ) -> None:
        self.writer: StoreWriter[Any] = StoreWriter(
            path, "spans", lambda store, batch: store.write_spans(batch), max_pending, busy_timeout_s
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
