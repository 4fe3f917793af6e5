"""One stored trace in full (`Store.get_trace`, `llmtap show`): its spans and annotations. Part of the interface of
`llmtap.store.api`, which gives these under its own names; a module of its own so that listing traces (`llmtap
traces`) does not pay for defining them. `StoredAnnotation` (given here too) is defined in
`llmtap.store.annotation_record`, on first use: showing a trace without annotations does not pay for it. The
records are `llmtap.frozen.frozen_record`s: frozen dataclasses ~4x cheaper to define.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmtap.frozen import frozen_record
from llmtap.lazy import lazy_names
from llmtap.store.api import TraceSummary, iso_time

if TYPE_CHECKING:
    from llmtap.store.annotation_record import StoredAnnotation as StoredAnnotation

__getattr__ = lazy_names(__name__, globals(), {"StoredAnnotation": "llmtap.store.annotation_record"})


@frozen_record
class StoredSpan:
    """One span as stored, every field of the OpenTelemetry span."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str  # INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER
    start_time_ns: int
    end_time_ns: int
    status_code: str  # UNSET, OK, ERROR
    status_description: str | None
    attributes: dict[str, Any]  # sequences come back as lists
    events: list[dict[str, Any]]  # {"name", "time_ns", "attributes"}
    links: list[dict[str, Any]]  # {"trace_id", "span_id", "attributes"}
    resource: dict[str, Any]  # {"attributes", "schema_url"}
    scope: dict[str, Any]  # {"name", "version", "schema_url", "attributes"}

    @property
    def duration_ms(self) -> float:
        return (self.end_time_ns - self.start_time_ns) / 1e6

    def as_dict(self) -> dict[str, Any]:
        """The documented `llmtap show --json` span shape."""
        return {
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "name": self.name,
            "kind": self.kind,
            "start_time": iso_time(self.start_time_ns),
            "end_time": iso_time(self.end_time_ns),
            "duration_ms": round(self.duration_ms, 3),
            "status": {"code": self.status_code, "description": self.status_description},
            "attributes": self.attributes,
            "events": [
                {"name": event["name"], "time": iso_time(event["time_ns"]), "attributes": event["attributes"]}
                for event in self.events
            ],
            "links": self.links,
            "resource": self.resource,
            "scope": self.scope,
        }


@frozen_record
class TraceDetail:
    """One trace in full: its summary, spans and annotations (`llmtap show`)."""

    summary: TraceSummary
    spans: list[StoredSpan]  # by start time
    annotations: list[StoredAnnotation]  # by time

    @property
    def trace_id(self) -> str:
        return self.summary.trace_id

    def as_dict(self) -> dict[str, Any]:
        """The documented `llmtap show --json` shape."""
        return {
            **self.summary.as_dict(),
            "spans": [span.as_dict() for span in self.spans],
            "annotations": [annotation.as_dict() for annotation in self.annotations],
        }
