"""OpenTelemetry exporters into the store: spans (behind the SDK's BatchSpanProcessor) and annotation log
records (behind a BatchLogRecordProcessor, in `llmtap.store.log_exporter`). They run on the processors' worker
threads, never on the application's.

The store is opened on the first export. When it cannot be opened or written, the problem is logged once
(at WARNING, naming the file and the cause), the records are held in memory and retried with the next
export, up to `max_pending` records (the oldest beyond that are dropped and counted), and the application
keeps running.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from llmtap.safety import logger

if TYPE_CHECKING:  # the store's interface is imported on the worker thread, with sqlite3
    from llmtap.store.api import Store

DEFAULT_MAX_PENDING = 20_000

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
        from llmtap.store.api import StoreError
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


def __getattr__(name: str) -> Any:
    """The annotation log exporter's names, from `llmtap.store.log_exporter` (where they moved), on first use."""
    if name in ("StoreLogExporter", "annotation_from_log", "EVALUATION_EVENT"):
        from llmtap.store import log_exporter

        return getattr(log_exporter, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
