"""The review-queue operations, UI-agnostic: the CLI (`llmtap queue ...`) and any review screen use these."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from llmtap.config import Settings, load_settings
from llmtap.errors import LlmtapError
from llmtap.review.agreement import Agreement, agreement
from llmtap.review.config import QueueConfig, parse_queues
from llmtap.safety import report_internal_error
from llmtap.store.api import QueueItem, Store, StoredAnnotation, TraceDetail, TraceNotFound, open_store


class ReviewError(LlmtapError, ValueError):
    """A review-queue operation was refused: unknown queue, bad value, or a slot the reviewer may not take."""


@dataclass(frozen=True)
class QueueStats:
    queue: str
    states: dict[str, int]  # pending, claimed, completed, skipped -> items
    reviewers: dict[str, int]  # reviewer -> items they completed
    agreement: list[Agreement]  # one per annotation the queue asks for

    def as_dict(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "states": dict(self.states),
            "reviewers": dict(self.reviewers),
            "agreement": [entry.as_dict() for entry in self.agreement],
        }


@dataclass(frozen=True)
class Claim:
    """What a reviewer works on: the item they hold, its queue, and the trace in full."""

    item: QueueItem
    queue: QueueConfig
    trace: TraceDetail

    def as_dict(self) -> dict[str, Any]:
        return {"item": self.item.as_dict(), "queue": self.queue.as_dict(), "trace": self.trace.as_dict()}


class ReviewQueues:
    """The queues of `settings` (default: the environment's) over `store` (default: `LLMTAP_STORE`).

    `clock` gives the time in nanoseconds (leases are measured with it).
    """

    def __init__(
        self,
        store: Store | None = None,
        settings: Settings | None = None,
        *,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        from llmtap.annotations import schemas

        self.settings = settings if settings is not None else load_settings()
        self.store = store if store is not None else open_store()
        self.clock = clock
        self.schemas = schemas(self.settings)
        self.queues: dict[str, QueueConfig] = parse_queues(
            self.settings.tables.get("queues"), self.settings.source, self.schemas
        )

    def queue(self, name: str) -> QueueConfig:
        found = self.queues.get(name)
        if found is None:
            known = ", ".join(sorted(self.queues)) or "none are declared"
            raise ReviewError(f"queue {name!r}: not declared in [tool.llmtap.queues]; expected one of: {known}")
        return found

    def add(self, name: str, trace_id: str) -> bool:
        """Put a stored trace (id or unique prefix) in the queue; False if it was there already."""
        self.queue(name)
        full = self.store.get_trace(trace_id).trace_id
        return self.store.enqueue(name, full)

    def remove(self, name: str, trace_id: str) -> bool:
        """Take a trace (id or unique prefix) out of the queue (with its claims); False if it was not in it."""
        self.queue(name)
        try:
            full = self.store.get_trace(trace_id).trace_id
        except TraceNotFound:  # not stored (any more): the id as given
            full = trace_id.strip().lower()
        return self.store.remove_from_queue(name, full)

    def items(self, name: str) -> list[QueueItem]:
        queue = self.queue(name)
        return self.store.queue_items(name, now_ns=self.clock(), reviewers=queue.reviewers)

    def item(self, item_id: int) -> QueueItem:
        found = self.store.queue_item(item_id, now_ns=self.clock())
        return self.store.queue_item(item_id, now_ns=self.clock(), reviewers=self.queue(found.queue).reviewers)

    def next(self, name: str, reviewer: str) -> Claim | None:
        """Claim the next item for `reviewer` (the one they hold, if any); None when nothing is left for them."""
        queue = self.queue(name)
        who = _reviewer(reviewer)
        item = self.store.claim_queue_item(
            name, who, reviewers=queue.reviewers, lease_ns=int(queue.lease.total_seconds() * 1e9), now_ns=self.clock()
        )
        if item is None:
            return None
        return Claim(item, queue, self.store.get_trace(item.trace_id))

    def submit(
        self, item_id: int, reviewer: str, values: Mapping[str, Any], *, explanation: str | None = None
    ) -> list[StoredAnnotation]:
        """Complete `reviewer`'s review of the item with annotation values (checked against their schemas).

        The annotations are stored at once (annotator = the reviewer, kind human, on the trace's root span)
        and, while llmtap is instrumented, also emitted through `llmtap.annotate` (same annotation id).
        """
        from llmtap.annotations import check_value

        who = _reviewer(reviewer)
        item = self.item(item_id)
        queue = self.queue(item.queue)
        if not values:
            raise ReviewError(
                f"queue item {item_id}: no values given; expected name=value for any of {', '.join(queue.annotations)}"
            )
        checked = []
        for name, value in values.items():
            if name not in queue.annotations:
                raise ReviewError(
                    f"queue item {item_id}: annotation {name!r} is not asked for by queue {queue.name!r}; "
                    f"expected one of {', '.join(queue.annotations)}"
                )
            checked.append((name, *check_value(self.settings, name, value, explanation, "human", "trace")))
        now = self.clock()
        self.store.finish_queue_review(item_id, who, "completed", reviewers=queue.reviewers, now_ns=now)
        span_id = item.span_id or self.store.get_trace(item.trace_id).summary.root_span_id
        stored = [
            StoredAnnotation(
                annotation_id=os.urandom(16).hex(),
                name=name,
                value=result.value,
                trace_id=item.trace_id,
                span_id=span_id,
                score=result.score,
                label=result.label,
                explanation=explanation,
                annotator=who,
                annotator_kind="human",
                schema_version=None if schema is None else schema.version,
                target={"kind": "trace", "trace_id": item.trace_id},
                metadata={"queue": queue.name, "queue_item": item_id},
                time_ns=now,
            )
            for name, schema, result in checked
        ]
        self.store.write_annotations(stored)
        _emit(stored)
        return stored

    def skip(self, item_id: int, reviewer: str) -> QueueItem:
        """`reviewer` passes on the item: the slot goes back to others; they are not offered it again."""
        item = self.item(item_id)
        queue = self.queue(item.queue)
        return self.store.finish_queue_review(
            item_id, _reviewer(reviewer), "skipped", reviewers=queue.reviewers, now_ns=self.clock()
        )

    def annotations(self, name: str) -> dict[int, list[StoredAnnotation]]:
        """The annotations submitted through the queue, by item id (oldest first)."""
        queue = self.queue(name)
        found: dict[int, list[StoredAnnotation]] = {}
        for item in self.items(name):
            for annotation in self.store.annotations(item.trace_id):
                if annotation.metadata.get("queue") == queue.name and annotation.name in queue.annotations:
                    found.setdefault(item.item_id, []).append(annotation)
        return found

    def stats(self, name: str) -> QueueStats:
        """Items per state, completions per reviewer, and agreement per annotation name."""
        queue = self.queue(name)
        items = self.items(name)
        states = dict.fromkeys(("pending", "claimed", "completed", "skipped"), 0)
        done: dict[str, int] = {}
        for item in items:
            states[item.state] += 1
            for review in item.reviews:
                if review.state == "completed":
                    done[review.reviewer] = done.get(review.reviewer, 0) + 1
        submitted = self.annotations(name)
        figures = []
        for annotation_name in queue.annotations:
            ratings: dict[int, dict[str, Any]] = {}
            for item in items:
                latest = ratings.setdefault(item.item_id, {})
                for annotation in submitted.get(item.item_id, []):
                    if annotation.name == annotation_name and annotation.annotator is not None:
                        latest[annotation.annotator] = annotation.value  # oldest first: the latest wins
            figures.append(agreement(self.schemas.get(annotation_name), annotation_name, ratings))
        return QueueStats(queue.name, states, dict(sorted(done.items())), figures)


def _reviewer(reviewer: Any) -> str:
    if not isinstance(reviewer, str) or not reviewer.strip():
        raise ReviewError(f"reviewer={reviewer!r}: expected a non-empty name (--as NAME)")
    return reviewer.strip()


def _emit(stored: list[StoredAnnotation]) -> None:
    """Send the stored annotations to the OpenTelemetry backends too, when llmtap is instrumented."""
    from llmtap import runtime

    if runtime.current() is None:
        return
    from llmtap.annotations import api

    for annotation in stored:
        try:
            prepared = api.prepare(
                annotation.trace_id,
                annotation.name,
                annotation.value,
                explanation=annotation.explanation,
                annotator=annotation.annotator,
                annotator_kind="human",
                metadata=annotation.metadata,
            )
            same = dataclasses.replace(prepared.annotation, id=annotation.annotation_id)
            api.commit(dataclasses.replace(prepared, annotation=same))
        except Exception as exc:
            report_internal_error("emitting a review annotation", exc)
