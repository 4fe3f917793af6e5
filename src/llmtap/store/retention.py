"""Retention of the local store: `store_max_age_days` / `store_max_size_mb`, applied in the background.

`apply_retention` deletes whole traces (oldest first) with their spans and annotations, and gives the space
back to the file system. `start` runs it on a daemon thread of the process that records into the store:
shortly after start-up, then every `interval_s` seconds; never on the application's threads.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from llmtap.safety import logger

if TYPE_CHECKING:
    from llmtap.store.api import PurgeResult

DAY_NS = 86_400 * 10**9
DEFAULT_INTERVAL_S = 3600.0
FIRST_RUN_AFTER_S = 5.0

_lock = threading.Lock()
_threads: dict[Path, RetentionThread] = {}


def apply_retention(
    path: str | Path, *, max_age_days: int = 0, max_size_mb: int = 0, now_ns: int | None = None
) -> PurgeResult:
    """Delete the traces older than `max_age_days`, then the oldest until the data fits in `max_size_mb`
    (0: no limit). Returns what was deleted."""
    from llmtap.store.api import PurgeResult  # on the retention thread, as sqlite3
    from llmtap.store.sqlite import SQLiteStore

    store = SQLiteStore(Path(path))
    try:
        traces = spans = annotations = 0
        if max_age_days:
            now = time.time_ns() if now_ns is None else now_ns
            done = store.purge_before_ns(now - max_age_days * DAY_NS)
            traces, spans, annotations = done.traces, done.spans, done.annotations
        limit = max_size_mb * 1_000_000
        while limit:
            used = store.used_bytes()
            count = store.count_traces()
            if used <= limit or not count:
                break
            # Traces are alike in size on average: delete the share that is over, and a little more.
            share = (used - limit) / used
            done = store.purge_before_ns(2**63 - 1, max_traces=max(1, int(count * share * 1.05) + 1))
            if not done.traces:
                break
            traces, spans, annotations = traces + done.traces, spans + done.spans, annotations + done.annotations
        return PurgeResult(traces=traces, spans=spans, annotations=annotations)
    finally:
        store.close()


class RetentionThread(threading.Thread):
    def __init__(
        self, path: Path, max_age_days: int, max_size_mb: int, interval_s: float, first_after_s: float
    ) -> None:
        super().__init__(name="llmtap-store-retention", daemon=True)
        self.path, self.max_age_days, self.max_size_mb, self.interval_s = path, max_age_days, max_size_mb, interval_s
        self.first_after_s = first_after_s
        self.stopped = threading.Event()
        self.runs = 0
        self._reported: str | None = None

    def run(self) -> None:
        wait = self.first_after_s
        while not self.stopped.wait(wait):
            wait = self.interval_s
            try:
                if self.path.exists():
                    done = apply_retention(self.path, max_age_days=self.max_age_days, max_size_mb=self.max_size_mb)
                    if done.traces:
                        logger.info(
                            "llmtap: retention deleted %d old trace(s) from the local store %s", done.traces, self.path
                        )
                self._reported = None
            except Exception as exc:
                message = f"llmtap: retention of the local store {self.path} failed ({exc}); it is tried again later"
                if message != self._reported:
                    self._reported = message
                    logger.warning("%s", message)
            self.runs += 1


def start(
    path: Path,
    max_age_days: int,
    max_size_mb: int,
    interval_s: float = DEFAULT_INTERVAL_S,
    first_after_s: float = FIRST_RUN_AFTER_S,
) -> RetentionThread | None:
    """Run retention for the store at `path` in the background (once per store and process); no-op without limits."""
    with _lock:
        running = _threads.get(path)
        if running is not None:
            if (running.max_age_days, running.max_size_mb) == (max_age_days, max_size_mb):
                return running
            running.stopped.set()
            del _threads[path]
        if not (max_age_days or max_size_mb):
            return None
        thread = RetentionThread(path, max_age_days, max_size_mb, interval_s, first_after_s)
        _threads[path] = thread
        thread.start()
        return thread
