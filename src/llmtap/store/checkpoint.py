"""WAL checkpoints off the writing thread.

In WAL mode a commit appends pages to the `-wal` file; a checkpoint copies them into the database file and waits
for the disk (fsync). SQLite runs it inside the commit that crosses `wal_autocheckpoint` pages, on the thread that
writes: the span exporter's. A `Checkpointer` runs passive checkpoints (which never block readers or writers) on a
thread of its own, with its own connection, at most every `interval_s`, after the writes that ask for one; the
writing connection keeps a high automatic threshold as a backstop, used only if this thread falls behind.
"""

from __future__ import annotations

import sqlite3
import threading

BACKSTOP_PAGES = 16_000  # the writing connection's own threshold (~64 MB of WAL), reached only if this lags


class Checkpointer:
    def __init__(self, path: str, *, interval_s: float = 0.25) -> None:
        self._path = path
        self._interval_s = interval_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="llmtap-store-checkpoint", daemon=True)
        self._thread.start()

    def request(self) -> None:
        """Ask for a checkpoint soon (returns at once)."""
        self._wake.set()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._wake.wait()
                if self._stopping.is_set():
                    return
                self._wake.clear()
                try:
                    if conn is None:
                        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    pass  # tried again after the next write; the writes themselves report a broken store
                if self._stopping.wait(self._interval_s):
                    return
        finally:
            if conn is not None:
                conn.close()

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the thread (a checkpoint under way finishes first)."""
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout_s)
