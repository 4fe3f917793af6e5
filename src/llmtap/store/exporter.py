"""OpenTelemetry exporters into the store: spans (behind the SDK's BatchSpanProcessor) and annotation log
records (behind a BatchLogRecordProcessor, in `llmtap.store.log_exporter`). They run on the processors' worker
threads, never on the application's.

The store is opened on the first export. When it cannot be opened or written, the problem is logged once
(at WARNING, naming the file and the cause), the records are held in memory and retried with the next
export, up to `max_pending` records (the oldest beyond that are dropped and counted), and the application
keeps running.

`StoreSpanProcessor` (what `instrument()` adds) is the SDK's BatchSpanProcessor over a span exporter that writes in
the background: each batch is converted on the processor's thread and handed to a writer thread of the exporter's
own, which stores it (batches that queue up meanwhile go into one transaction), so on two cores the conversion
(Python) and SQLite's work overlap. Its `force_flush` and `shutdown` return once every span is stored (or held).
"""

from __future__ import annotations

import os
import queue
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from llmtap.safety import logger

if TYPE_CHECKING:  # the store's interface is imported on the worker thread, with sqlite3
    from llmtap.store.api import Store

DEFAULT_MAX_PENDING = 20_000
QUEUED_BATCHES = 4  # batches converted ahead of the writer thread; export waits while this many are queued
_STOP = object()
_WRITERS: weakref.WeakSet[StoreWriter[Any]] = weakref.WeakSet()
_FORKED_STORES: list[Any] = []


def _after_fork_in_child() -> None:
    for writer in list(_WRITERS):
        writer._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
_YIELD_EVERY = 32  # spans converted between two chances for the writer thread to take the GIL
_YIELD_S = 0.00005

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
        self._submit_lock = threading.Lock()
        self._queue: queue.Queue[Any] = queue.Queue(QUEUED_BATCHES)
        self._thread: threading.Thread | None = None
        self.writing = False  # the writer thread is storing a batch
        _WRITERS.add(self)

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

    @property
    def closed(self) -> bool:
        return self._closed

    def drop(self, count: int, reason: str) -> None:
        """Count `count` records that cannot be stored at all (e.g. a span that cannot be converted), saying why."""
        with self._lock:
            self.dropped += count
        logger.warning("llmtap: %s; it is left out of the local store %s", reason, self.path)

    # -- writing on a thread of its own -------------------------------------------------------------

    def submit(self, items: list[Item]) -> bool:
        """Hand `items` to the writer thread (started on first use) and return at once, unless `QUEUED_BATCHES`
        batches are already waiting: then wait for room. `flush` waits until they are stored."""
        with self._submit_lock:
            if self._closed:
                return False
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="llmtap-store-writer", daemon=True)
                self._thread.start()
            self._queue.put(items)
        return True

    def _after_fork(self) -> None:
        """In a child process: the parent's threads, locks and store connection are not usable here (SQLite: never
        use a connection across fork()). Batches the parent had queued are the parent's to write; what was held is
        retried here too (a span stored twice is stored once)."""
        if self._store is not None:
            _FORKED_STORES.append(self._store)  # never closed here: closing is using it
        self._store = None
        self._lock = threading.Lock()
        self._submit_lock = threading.Lock()
        self._queue = queue.Queue(QUEUED_BATCHES)
        self._thread = None
        self.writing = False

    def _run(self) -> None:
        batches = self._queue
        while True:
            items = batches.get()
            if items is _STOP:
                batches.task_done()
                return
            taken = 1
            stop = False
            try:
                while True:  # what queued up meanwhile goes into the same transaction
                    try:
                        more = batches.get_nowait()
                    except queue.Empty:
                        break
                    taken += 1
                    if more is _STOP:
                        stop = True
                        break
                    items = [*items, *more]
                self.writing = True
                self.write(items)
            except Exception:  # write() holds what fails; nothing may end this thread
                pass
            finally:
                self.writing = False
                for _ in range(taken):
                    batches.task_done()
            if stop:
                return

    def flush(self) -> bool:
        """Wait until every submitted batch is stored or held; retry what is held. True when nothing is held."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.join()
        return self.write(())

    def shutdown(self) -> None:
        with self._submit_lock:
            thread = self._thread
            if thread is not None and thread.is_alive():
                self._queue.join()
                self._queue.put(_STOP)
                thread.join()
            self._thread = None
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
    """A `SpanExporter` writing finished spans into the store at `path` (use it behind a BatchSpanProcessor).

    `export` returns once its spans are stored. With `background=True` it converts the batch and hands it to the
    exporter's writer thread instead: the spans are stored shortly after `export` returns, and `force_flush` /
    `shutdown` wait until they are (the SDK's BatchSpanProcessor does not call the exporter's `force_flush`:
    `StoreSpanProcessor` does)."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        busy_timeout_s: float | None = None,
        background: bool = False,
    ) -> None:
        self.writer: StoreWriter[Any] = StoreWriter(
            path, "spans", lambda store, rows: store.write_rows(rows), max_pending, busy_timeout_s
        )
        self.background = background

    @property
    def path(self) -> str:
        return self.writer.path

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        rows = self._rows(spans)
        if self.background:
            written = self.writer.submit(rows) if rows else not self.writer.closed
        else:
            written = self.writer.write(rows)
        return SpanExportResult.SUCCESS if written else SpanExportResult.FAILURE

    def _rows(self, spans: Sequence[Any]) -> list[Any]:
        from llmtap.store.convert import SpanRow, summarize  # on the worker thread

        rows: list[Any] = []
        writer = self.writer
        for start in range(0, len(spans), _YIELD_EVERY):
            if start and writer.writing:
                # Python runs one thread at a time: the writer thread needs the GIL between SQLite's steps, and
                # waits 5 ms for it (the switch interval) while this thread converts. Let it go, briefly.
                time.sleep(_YIELD_S)
            part = spans[start : start + _YIELD_EVERY]
            try:
                rows += [SpanRow(span) for span in part]
            except Exception:
                for span in part:  # keep every span that converts; count and report the others
                    try:
                        rows.append(SpanRow(span))
                    except Exception as exc:
                        writer.drop(1, f"a span ({getattr(span, 'name', '?')!r}) could not be converted ({exc!r})")
        summarize(rows)  # the traces' summaries and facets: here rather than on the writer thread
        return rows

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.writer.flush()

    def shutdown(self) -> None:
        self.writer.shutdown()


class StoreSpanProcessor(BatchSpanProcessor):
    """The SDK's `BatchSpanProcessor` (`batch_options`: its keyword arguments) over a `StoreSpanExporter` writing in
    the background (`exporter`); `force_flush` returns once every span ended before it is stored."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        busy_timeout_s: float | None = None,
        **batch_options: Any,
    ) -> None:
        self.exporter = StoreSpanExporter(path, max_pending=max_pending, busy_timeout_s=busy_timeout_s, background=True)
        super().__init__(self.exporter, **batch_options)

    def force_flush(self, timeout_millis: int | None = None) -> bool:
        exported = super().force_flush(timeout_millis)
        return self.exporter.force_flush() and exported


def __getattr__(name: str) -> Any:
    """The annotation log exporter's names, from `llmtap.store.log_exporter` (where they moved), on first use."""
    if name in ("StoreLogExporter", "annotation_from_log", "EVALUATION_EVENT"):
        from llmtap.store import log_exporter

        return getattr(log_exporter, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
