"""The store's one narrow interface: what callers (the CLI, the exporters, routing, the demo) may use.

Everything behind `Store` is an implementation detail of the SQLite backend (`llmtap.store.sqlite`); a
server database can be added later as another implementation of the same protocol.

Times are integers in nanoseconds since the Unix epoch (as OpenTelemetry has them); `iso_time()` turns
one into ISO 8601 UTC.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from llmtap.errors import LlmtapError
from llmtap.frozen import frozen_record
from llmtap.lazy import lazy_names

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

    from llmtap.store.annotation_record import StoredAnnotation
    from llmtap.store.detail import StoredSpan as StoredSpan
    from llmtap.store.detail import TraceDetail
    from llmtap.store.paths import store_path as store_path
    from llmtap.store.results import AnnotatedTrace, ModelCall, PurgeResult, QueueItem, StoreInfo
    from llmtap.store.results import QueueReview as QueueReview

# Names of this interface defined elsewhere, imported on first use (`from llmtap.store.api import X` works too): each
# record costs a fraction of a millisecond to define (the ones a command reading traces defines as it starts are
# `llmtap.frozen.frozen_record`s, ~4x cheaper than a frozen dataclass), and `llmtap traces` needs only the two below,
# not the settings (`store_path`), a trace in full (`llmtap show`) or the records of the other reads.
_ELSEWHERE = {
    "store_path": "llmtap.store.paths",
    "StoredAnnotation": "llmtap.store.annotation_record",
    "StoredSpan": "llmtap.store.detail",
    "TraceDetail": "llmtap.store.detail",
    "AnnotatedTrace": "llmtap.store.results",
    "ModelCall": "llmtap.store.results",
    "PurgeResult": "llmtap.store.results",
    "QueueItem": "llmtap.store.results",
    "QueueReview": "llmtap.store.results",
    "StoreInfo": "llmtap.store.results",
}
__getattr__ = lazy_names(__name__, globals(), _ELSEWHERE)


class StoreError(LlmtapError):
    """The store cannot be opened, read or written; the message says which file and why."""


class StoreVersionError(StoreError):
    """The store was written by a newer llmtap (a schema version this one does not know)."""


class TraceNotFound(StoreError, LookupError):
    """No stored trace has the given id (or id prefix)."""


class AmbiguousTraceId(StoreError, LookupError):
    """More than one stored trace starts with the given prefix."""


def iso_time(time_ns: int) -> str:
    """`1764201600123456789` -> `2025-11-27T00:00:00.123456Z` (microseconds, UTC)."""
    moment = datetime.fromtimestamp(time_ns // 1000 / 1_000_000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_RELATIVE = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_time(text: str, name: str = "time", *, now: datetime | None = None) -> datetime:
    """`2025-11-01`, `2025-11-01T12:00:00Z` (a time without zone is UTC) or `30d` / `12h` / `15m` ago."""
    raw = text.strip()
    unit = _RELATIVE.get(raw[-1:].lower())
    if unit is not None and raw[:-1].isdigit():
        return (now or datetime.now(UTC)) - timedelta(seconds=int(raw[:-1]) * unit)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise StoreError(
            f"{name}={text!r}: expected a date or time (2025-11-01, 2025-11-01T12:00:00Z) or an age (30d, 12h, 15m)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def to_ns(moment: datetime) -> int:
    """A datetime as nanoseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


@frozen_record
class TraceQuery:
    """Filters for `Store.query_traces` (all given filters must hold). Newest traces first."""

    labels: Mapping[str, str] = field(default_factory=dict)  # label key -> value (as on the span, a string)
    model: str | None = None  # request or response model
    provider: str | None = None  # gen_ai.provider.name
    errors: bool = False  # only traces with an error span
    min_latency_ms: float | None = None  # trace duration
    min_tokens: int | None = None  # input + output tokens of the trace
    since: datetime | None = None  # trace start >= since
    until: datetime | None = None  # trace start < until
    search: str | None = None  # words that must all occur in the trace's captured prompts and completions
    annotations: Mapping[str, str] = field(default_factory=dict)  # annotation name -> value
    limit: int = 50
    offset: int = 0


@frozen_record
class TraceSummary:
    """One trace as `llmtap traces` lists it: its root span, times, counts, token totals, labels, models."""

    trace_id: str
    root_name: str | None
    root_span_id: str | None
    start_time_ns: int
    end_time_ns: int
    span_count: int
    model_calls: int
    input_tokens: int
    output_tokens: int
    error: bool
    labels: dict[str, str]
    models: list[str]
    providers: list[str]

    @property
    def duration_ms(self) -> float:
        return (self.end_time_ns - self.start_time_ns) / 1e6

    def as_dict(self) -> dict[str, Any]:
        """The documented `llmtap traces --json` shape."""
        return {
            "trace_id": self.trace_id,
            "start_time": iso_time(self.start_time_ns),
            "duration_ms": round(self.duration_ms, 3),
            "root_name": self.root_name,
            "labels": dict(self.labels),
            "error": self.error,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "models": list(self.models),
            "providers": list(self.providers),
            "span_count": self.span_count,
            "model_calls": self.model_calls,
        }


class Store(Protocol):
    """A place spans and annotations are written to and read back from."""

    path: str

    def write_spans(self, spans: Sequence[ReadableSpan]) -> int:
        """Store finished spans (one transaction); returns how many were new. Idempotent per span."""

    def write_annotations(self, annotations: Sequence[StoredAnnotation]) -> int:
        """Store annotations; one whose target is a join key no stored span has yet is kept pending."""

    def query_traces(self, query: TraceQuery | None = None) -> list[TraceSummary]:
        """Trace summaries matching every filter of `query`, newest first, one page."""

    def trace_ids(self, query: TraceQuery | None = None) -> list[str]:
        """The ids of every trace matching `query` (its limit and offset aside), newest first."""

    def count_traces(self, query: TraceQuery | None = None, *, at_most: int | None = None) -> int:
        """How many traces match the filters of `query` (limit and offset ignored); counting stops at `at_most`
        if given, which keeps it quick on a large store."""

    def get_trace(self, trace_id: str) -> TraceDetail:
        """The trace with this id, or the one trace whose id starts with this prefix (>= 4 hex digits)."""

    def get_traces(self, trace_ids: Sequence[str]) -> list[TraceDetail]:
        """The traces with these full ids, in that order, read in batches (ids not stored are left out)."""

    def model_calls(self, query: TraceQuery | None = None) -> Iterator[ModelCall]:
        """Every model span of the traces matching `query` (limit and offset ignored)."""

    def annotated_traces(self, name: str, query: TraceQuery | None = None) -> Iterator[AnnotatedTrace]:
        """Every annotation called `name` on the traces matching `query`, with the trace's labels."""

    def annotations(self, trace_id: str | None = None) -> list[StoredAnnotation]:
        """Stored annotations (of one trace, or all), oldest first."""

    def pending_annotations(self) -> list[StoredAnnotation]:
        """Annotations still waiting for a span with their join key."""

    def pending_for(self, keys: Iterable[tuple[str, str]]) -> list[StoredAnnotation]:
        """The pending annotations waiting for any of these join keys ((label, value) pairs), oldest first."""

    def join_target(self, label: str, value: str) -> tuple[str, str] | None:
        """(trace id, span id) of the outermost stored span whose label `label` has the value `value` (a join
        key), or None."""

    def purge(self, before: datetime, *, progress: Callable[[int, int], None] | None = None) -> PurgeResult:
        """Delete every trace that started before `before`, with its spans and annotations;
        `progress(traces deleted, traces to delete)` after each chunk."""

    def info(self) -> StoreInfo: ...

    # -- routing: every write idempotent ----------------------------------------------------------

    def enqueue(self, queue: str, trace_id: str, *, span_id: str | None = None, rule: str | None = None) -> bool:
        """Put the trace in a review queue (pending); False if it was there already."""

    def add_to_dataset(
        self,
        dataset: str,
        trace_id: str,
        *,
        span_id: str | None = None,
        data: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> bool:
        """Add the trace (or one span) to a dataset, created on first use; False if already in it."""

    def dataset_names(self) -> list[str]:
        """The name of every dataset a trace was ever added to, sorted."""

    def dataset_items(self, dataset: str) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
        """(trace id, span id, data) of each item of a dataset, oldest first."""

    def queue_item_traces(self, queue: str) -> list[tuple[str, str, str | None]]:
        """(trace id, state, rule) of each item of a queue, oldest first."""

    def record_delivery(self, target: str, trace_id: str, rule: str) -> bool:
        """Note that a routing target received the trace; False if it had already."""

    def tag_trace(self, trace_id: str, labels: Mapping[str, str]) -> None:
        """Add labels to a stored trace."""

    def batch(self) -> AbstractContextManager[Any]:
        """Many writes in one transaction; each write's own becomes a savepoint (undone alone if it fails)."""

    # -- review queues (llmtap.review): each claim one write transaction --------------------------

    def queue_items(self, queue: str, *, now_ns: int, reviewers: int = 1) -> list[QueueItem]:
        """Every item of a queue with its reviews, oldest first; states as of `now_ns`."""

    def queue_item(self, item_id: int, *, now_ns: int, reviewers: int = 1) -> QueueItem:
        """One queue item by id."""

    def remove_from_queue(self, queue: str, trace_id: str) -> bool:
        """Take a trace out of a queue; False if it was not in it."""

    def claim_queue_item(
        self, queue: str, reviewer: str, *, reviewers: int, lease_ns: int, now_ns: int
    ) -> QueueItem | None:
        """Claim a free reviewer slot of the oldest open item (None when nothing is left for this reviewer)."""

    def finish_queue_review(
        self, item_id: int, reviewer: str, outcome: str, *, reviewers: int, now_ns: int
    ) -> QueueItem:
        """Record a reviewer's outcome (completed | skipped) on an item."""

    def close(self) -> None: ...


def open_store(path: str | os.PathLike[str] | None = None, *, create: bool = True) -> Store:
    """Open (and with `create`, create and migrate) the store at `path` (default: `LLMTAP_STORE`).

    Raises `StoreError` with a message naming the file and the cause when it cannot be opened.
    """
    from llmtap.store.sqlite import SQLiteStore

    if path is None:
        from llmtap.store.paths import store_location

        resolved = store_location()
        if resolved is None:
            raise StoreError("LLMTAP_STORE='off': the local store is disabled; expected a file path")
        path = resolved
    return SQLiteStore(os.fspath(path), create=create)
