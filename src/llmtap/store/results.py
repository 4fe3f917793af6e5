"""The records of the store's less frequent reads: model calls and annotated traces (`llmtap stats`), review queue
items, the store's info and a purge's counts. Part of the interface of `llmtap.store.api`, which gives them under
its own names; kept in a module of their own so that the commands reading traces (`llmtap traces`, `llmtap show`)
do not pay for defining them (a frozen dataclass costs about a millisecond to define).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmtap.store.api import iso_time

if TYPE_CHECKING:
    from llmtap.store.annotation_record import StoredAnnotation


@dataclass(frozen=True)
class ModelCall:
    """One model (CLIENT) span, the unit of `llmtap stats`."""

    trace_id: str
    span_id: str
    name: str
    model: str | None
    provider: str | None
    start_time_ns: int
    duration_ms: float
    input_tokens: int | None
    output_tokens: int | None
    error: bool
    labels: dict[str, str]  # the span's own labels
    cost: float | None = None  # llmtap.usage.cost (USD), when the call was priced


@dataclass(frozen=True)
class AnnotatedTrace:
    """An annotation with the labels of the trace it targets (for `llmtap stats --annotation`)."""

    annotation: StoredAnnotation
    labels: dict[str, str]


@dataclass(frozen=True)
class QueueReview:
    """One reviewer's claim on a queue item: `claimed` (until its lease ends), `completed` or `skipped`."""

    reviewer: str
    state: str
    claimed_until_ns: int | None
    updated_ns: int

    def active(self, now_ns: int) -> bool:
        return self.state == "claimed" and (self.claimed_until_ns or 0) > now_ns

    def as_dict(self) -> dict[str, Any]:
        return {
            "reviewer": self.reviewer,
            "state": self.state,
            "claimed_until": iso_time(self.claimed_until_ns) if self.claimed_until_ns else None,
            "updated": iso_time(self.updated_ns),
        }


@dataclass(frozen=True)
class QueueItem:
    """A trace in a review queue: `pending`, `claimed`, `completed` or `skipped` (as of when it was read)."""

    item_id: int
    queue: str
    trace_id: str
    span_id: str | None
    state: str
    rule: str | None
    added_ns: int
    updated_ns: int
    reviews: list[QueueReview] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item_id,
            "queue": self.queue,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "state": self.state,
            "rule": self.rule,
            "added": iso_time(self.added_ns),
            "reviews": [review.as_dict() for review in self.reviews],
        }


@dataclass(frozen=True)
class StoreInfo:
    """What `Store.info()` tells: the file, its size, what it holds, its schema version, whether it is writable."""

    path: str
    size_bytes: int  # database file plus its write-ahead log
    trace_count: int
    span_count: int
    annotation_count: int
    pending_annotation_count: int
    schema_version: int
    writable: bool


@dataclass(frozen=True)
class PurgeResult:
    """What `Store.purge()` deleted."""

    traces: int
    spans: int
    annotations: int
