"""The SQLite store's part for routing: queue items, dataset items, deliveries and route tags.

Every write is idempotent (a trace enters a queue or dataset, or reaches an exporter, at most once per
target), so rules may be re-evaluated in any process, any number of times.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any


class RoutingTables:
    """Mixed into `SQLiteStore`, which supplies `_transaction()` (one write transaction) and `_read()`."""

    _transaction: Any
    _read: Any

    def enqueue(self, queue: str, trace_id: str, *, span_id: str | None = None, rule: str | None = None) -> bool:
        """Put the trace in `queue` (state pending). False if it was there already."""
        now = time.time_ns()
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO queue_items (queue, trace_id, span_id, state, rule, added_ns, updated_ns) "
                "VALUES (?, ?, ?, 'pending', ?, ?, ?)",
                (queue, trace_id, span_id, rule, now, now),
            )
            return cursor.rowcount == 1

    def add_to_dataset(
        self,
        dataset: str,
        trace_id: str,
        *,
        span_id: str | None = None,
        data: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> bool:
        """Add the trace (or one of its spans) to `dataset`, created on first use. False if already in it."""
        from llmtap.store.convert import dumps  # the write path's JSON (reading the store does without it)

        now = time.time_ns()
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO datasets (name, description, created_ns) VALUES (?, ?, ?)",
                (dataset, description, now),
            )
            exists = conn.execute(
                "SELECT 1 FROM dataset_items WHERE dataset = ? AND trace_id = ? AND span_id IS ?",
                (dataset, trace_id, span_id),
            ).fetchone()
            if exists:  # UNIQUE does not hold for a NULL span_id: checked here, inside the write lock
                return False
            conn.execute(
                "INSERT INTO dataset_items (dataset, trace_id, span_id, data, added_ns) VALUES (?, ?, ?, ?, ?)",
                (dataset, trace_id, span_id, dumps(dict(data or {})), now),
            )
            return True

    def dataset_names(self) -> list[str]:
        """The name of every dataset a trace was ever added to, sorted."""
        return [name for (name,) in self._read("SELECT name FROM datasets ORDER BY name")]

    def dataset_items(self, dataset: str) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
        """(trace id, span id, data) of each item of `dataset`, oldest first."""
        for trace_id, span_id, data in self._read(
            "SELECT trace_id, span_id, data FROM dataset_items WHERE dataset = ? ORDER BY added_ns, id", (dataset,)
        ):
            yield trace_id, span_id, json.loads(data)

    def queue_item_traces(self, queue: str) -> list[tuple[str, str, str | None]]:
        """(trace id, state, rule) of each item of `queue`, oldest first."""
        return [
            (trace_id, state, rule)
            for trace_id, state, rule in self._read(
                "SELECT trace_id, state, rule FROM queue_items WHERE queue = ? ORDER BY added_ns, id", (queue,)
            )
        ]

    def record_delivery(self, target: str, trace_id: str, rule: str) -> bool:
        """Note that `target` (e.g. `exporter:vendor`) received the trace. False if it had already."""
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO route_deliveries (target, trace_id, rule, time_ns) VALUES (?, ?, ?, ?)",
                (target, trace_id, rule, time.time_ns()),
            )
            return cursor.rowcount == 1

    def tag_trace(self, trace_id: str, labels: Mapping[str, str]) -> bool:
        """Add labels to a stored trace (filterable with `llmtap traces --label k=v`). False: no such trace stored."""
        from llmtap.store.convert import dumps

        with self._transaction() as conn:
            row = conn.execute("SELECT labels FROM traces WHERE trace_id = ?", (trace_id,)).fetchone()
            if row is None:
                return False
            merged = {**json.loads(row[0]), **labels}
            conn.execute("UPDATE traces SET labels = ? WHERE trace_id = ?", (dumps(merged), trace_id))
            conn.executemany(
                "INSERT OR IGNORE INTO trace_facets (facet, value, trace_id) VALUES (?, ?, ?)",
                [(f"label:{key}", str(value), trace_id) for key, value in labels.items()],
            )
        return True
