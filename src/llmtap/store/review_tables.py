"""The SQLite store's part for review queues: each reviewer's claim on a queue item, and its outcome.

An item of a queue needing N reviewers has N slots. A reviewer claims one (a row in `queue_reviews`, state
`claimed`, with a lease); the claim ends `completed` or `skipped`, or runs out and frees the slot. Every
claim is one write transaction (`BEGIN IMMEDIATE`), so two reviewers (threads or processes) claiming at
once never get the same slot.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from llmtap.store.api import StoreError

if TYPE_CHECKING:
    from llmtap.store.results import QueueItem, QueueReview

_ITEM_COLUMNS = "id, queue, trace_id, span_id, state, rule, added_ns, updated_ns"
TERMINAL = ("completed", "skipped")


def item_state(reviews: list[QueueReview], reviewers: int, now_ns: int) -> str:
    """pending | claimed | completed | skipped, from the item's reviews (claims past their lease do not count)."""
    if sum(review.state == "completed" for review in reviews) >= reviewers:
        return "completed"
    if sum(review.state == "skipped" for review in reviews) >= reviewers:
        return "skipped"
    if any(review.active(now_ns) for review in reviews):
        return "claimed"
    return "pending"


class ReviewTables:
    """Mixed into `SQLiteStore`, which supplies `_transaction()` (one write transaction) and `_read()`."""

    _transaction: Any
    _read: Any

    def queue_items(self, queue: str, *, now_ns: int, reviewers: int = 1) -> list[QueueItem]:
        """Every item of `queue` with its reviews, oldest first; states as of `now_ns`."""
        rows = self._read(f"SELECT {_ITEM_COLUMNS} FROM queue_items WHERE queue = ? ORDER BY added_ns, id", (queue,))
        reviews = _reviews_by_item(
            self._read(
                "SELECT r.item_id, r.reviewer, r.state, r.claimed_until_ns, r.updated_ns FROM queue_reviews r "
                "JOIN queue_items q ON q.id = r.item_id WHERE q.queue = ? ORDER BY r.updated_ns",
                (queue,),
            )
        )
        return [_item(row, reviews.get(row[0], []), reviewers, now_ns) for row in rows]

    def queue_item(self, item_id: int, *, now_ns: int, reviewers: int = 1) -> QueueItem:
        """One item by its id; `StoreError` if there is none."""
        rows = self._read(f"SELECT {_ITEM_COLUMNS} FROM queue_items WHERE id = ?", (item_id,))
        if not rows:
            raise StoreError(f"queue item {item_id!r}: no such item; expected an id `llmtap queue show` lists")
        found = self._read(
            "SELECT item_id, reviewer, state, claimed_until_ns, updated_ns FROM queue_reviews WHERE item_id = ? "
            "ORDER BY updated_ns",
            (item_id,),
        )
        return _item(rows[0], _reviews_by_item(found).get(item_id, []), reviewers, now_ns)

    def remove_from_queue(self, queue: str, trace_id: str) -> bool:
        """Take the trace out of `queue` with its reviews. False if it was not in it."""
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT id FROM queue_items WHERE queue = ? AND trace_id = ?", (queue, trace_id)
            ).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM queue_reviews WHERE item_id = ?", (row[0],))
            conn.execute("DELETE FROM queue_items WHERE id = ?", (row[0],))
            return True

    def claim_queue_item(
        self, queue: str, reviewer: str, *, reviewers: int, lease_ns: int, now_ns: int
    ) -> QueueItem | None:
        """Claim a free slot of the oldest open item `reviewer` has not had yet (or the item they hold already).

        None when there is nothing left for this reviewer. One write transaction.
        """
        with self._transaction() as conn:
            self._expire(conn, queue, reviewers, now_ns)
            held = conn.execute(
                "SELECT q.id FROM queue_reviews r INDEXED BY queue_reviews_claimed "
                "CROSS JOIN queue_items q ON q.id = r.item_id WHERE q.queue = ? "
                "AND r.reviewer = ? AND r.state = 'claimed' ORDER BY q.added_ns, q.id LIMIT 1",
                (queue, reviewer),
            ).fetchone()
            if held is not None:
                item_id = held[0]
                conn.execute(
                    "UPDATE queue_reviews SET claimed_until_ns = ?, updated_ns = ? WHERE item_id = ? AND reviewer = ?",
                    (now_ns + lease_ns, now_ns, item_id, reviewer),
                )
            else:
                # One indexed walk per open state, oldest first, stopping at the first free slot: a single query
                # over both states would sort every open item of the queue on each claim.
                candidates = [
                    conn.execute(
                        "SELECT q.added_ns, q.id FROM queue_items q WHERE q.queue = ? AND q.state = ? "
                        "AND NOT EXISTS (SELECT 1 FROM queue_reviews r WHERE r.item_id = q.id AND r.reviewer = ?) "
                        "AND (SELECT count(*) FROM queue_reviews r WHERE r.item_id = q.id "
                        "     AND r.state IN ('claimed', 'completed')) < ? "
                        "ORDER BY q.added_ns, q.id LIMIT 1",
                        (queue, state, reviewer, reviewers),
                    ).fetchone()
                    for state in ("pending", "claimed")
                ]
                free = min((found for found in candidates if found is not None), default=None)
                if free is None:
                    return None
                item_id = free[1]
                conn.execute(
                    "INSERT INTO queue_reviews (item_id, reviewer, state, claimed_until_ns, updated_ns) "
                    "VALUES (?, ?, 'claimed', ?, ?)",
                    (item_id, reviewer, now_ns + lease_ns, now_ns),
                )
            self._refresh(conn, item_id, reviewers, now_ns)
            return self._load(conn, item_id, reviewers, now_ns)

    def finish_queue_review(
        self, item_id: int, reviewer: str, outcome: str, *, reviewers: int, now_ns: int
    ) -> QueueItem:
        """Record `reviewer`'s outcome (`completed` or `skipped`) on the item; `StoreError` if they may not.

        A reviewer may finish an item they claimed (even past the lease, while no one has taken the slot) or
        one with a free slot; never one they finished already, nor a completed or skipped item.
        """
        if outcome not in TERMINAL:
            raise StoreError(f"outcome={outcome!r}: expected one of {', '.join(TERMINAL)}")
        with self._transaction() as conn:
            row = conn.execute("SELECT queue FROM queue_items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                raise StoreError(f"queue item {item_id!r}: no such item; expected an id `llmtap queue show` lists")
            self._expire(conn, row[0], reviewers, now_ns)
            item = self._load(conn, item_id, reviewers, now_ns)
            mine = next((review for review in item.reviews if review.reviewer == reviewer), None)
            if mine is not None and mine.state in TERMINAL:
                raise StoreError(
                    f"queue item {item_id}: reviewer {reviewer!r} has {mine.state} it already; "
                    "expected an item this reviewer has not reviewed"
                )
            if item.state in TERMINAL:
                raise StoreError(f"queue item {item_id}: the item is {item.state}; expected a pending or claimed item")
            if mine is None:
                taken = sum(review.state in ("claimed", "completed") for review in item.reviews)
                if taken >= reviewers:
                    raise StoreError(
                        f"queue item {item_id}: every one of its {reviewers} reviewer slot(s) is taken; "
                        f"expected an item {reviewer!r} claimed (llmtap queue next)"
                    )
            conn.execute(
                "INSERT INTO queue_reviews (item_id, reviewer, state, claimed_until_ns, updated_ns) "
                "VALUES (?, ?, ?, NULL, ?) ON CONFLICT (item_id, reviewer) DO UPDATE SET state = excluded.state, "
                "claimed_until_ns = NULL, updated_ns = excluded.updated_ns",
                (item_id, reviewer, outcome, now_ns),
            )
            self._refresh(conn, item_id, reviewers, now_ns)
            return self._load(conn, item_id, reviewers, now_ns)

    # -- inside a write transaction ---------------------------------------------------------------

    def _expire(self, conn: sqlite3.Connection, queue: str, reviewers: int, now_ns: int) -> None:
        expired = [
            row[0]
            for row in conn.execute(
                # CROSS JOIN keeps queue_reviews outermost, read through its index of live claims.
                "SELECT DISTINCT r.item_id FROM queue_reviews r INDEXED BY queue_reviews_claimed "
                "CROSS JOIN queue_items q ON q.id = r.item_id "
                "WHERE q.queue = ? AND r.state = 'claimed' AND r.claimed_until_ns <= ?",
                (queue, now_ns),
            )
        ]
        for item_id in expired:
            conn.execute(
                "DELETE FROM queue_reviews WHERE item_id = ? AND state = 'claimed' AND claimed_until_ns <= ?",
                (item_id, now_ns),
            )
            self._refresh(conn, item_id, reviewers, now_ns)

    def _load(self, conn: sqlite3.Connection, item_id: int, reviewers: int, now_ns: int) -> QueueItem:
        row = conn.execute(f"SELECT {_ITEM_COLUMNS} FROM queue_items WHERE id = ?", (item_id,)).fetchone()
        found = conn.execute(
            "SELECT item_id, reviewer, state, claimed_until_ns, updated_ns FROM queue_reviews WHERE item_id = ? "
            "ORDER BY updated_ns",
            (item_id,),
        ).fetchall()
        return _item(row, _reviews_by_item(found).get(item_id, []), reviewers, now_ns)

    def _refresh(self, conn: sqlite3.Connection, item_id: int, reviewers: int, now_ns: int) -> None:
        item = self._load(conn, item_id, reviewers, now_ns)
        active = [review for review in item.reviews if review.active(now_ns)]
        conn.execute(
            "UPDATE queue_items SET state = ?, claimed_by = ?, claimed_until_ns = ?, updated_ns = ? WHERE id = ?",
            (
                item.state,
                active[-1].reviewer if active else None,
                active[-1].claimed_until_ns if active else None,
                now_ns,
                item_id,
            ),
        )


def _reviews_by_item(rows: list[tuple[Any, ...]]) -> dict[int, list[QueueReview]]:
    from llmtap.store.results import QueueReview

    found: dict[int, list[QueueReview]] = {}
    for item_id, reviewer, state, until, updated in rows:
        found.setdefault(item_id, []).append(QueueReview(reviewer, state, until, updated))
    return found


def _item(row: tuple[Any, ...], reviews: list[QueueReview], reviewers: int, now_ns: int) -> QueueItem:
    from llmtap.store.results import QueueItem

    item_id, queue, trace_id, span_id, _stored, rule, added_ns, updated_ns = row
    return QueueItem(
        item_id=item_id,
        queue=queue,
        trace_id=trace_id,
        span_id=span_id,
        state=item_state(reviews, reviewers, now_ns),
        rule=rule,
        added_ns=added_ns,
        updated_ns=updated_ns,
        reviews=reviews,
    )
