"""One stored trace in full (`Store.get_trace`, `llmtap show`): its spans and annotations. Part of the interface of
`llmtap.store.api`, which gives these under its own names; a module of its own so that listing traces (`llmtap
traces`) does not pay for defining them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from llmtap.store.api import TraceSummary, iso_time


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class StoredAnnotation:
    """One annotation as stored: the fields of `llmtap.annotations.Annotation`, plus the trace and span it
    landed on (None for a session, or while a join key matches no stored span) and its record's attributes.
    `value` is as given (str, number or bool); `time_ns` is when it was made."""

    annotation_id: str  # `Annotation.id`
    name: str
    value: Any
    trace_id: str | None = None
    span_id: str | None = None
    score: float | None = None  # gen_ai.evaluation.score.value
    label: str | None = None  # gen_ai.evaluation.score.label
    explanation: str | None = None
    annotator: str | None = None
    annotator_kind: str | None = None  # human | end_user | llm | code
    schema_version: int | None = None
    target: dict[str, Any] = field(default_factory=dict)  # {"kind", "trace_id", "span_id", "session_id", "join"}
    metadata: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)  # every attribute of the log record
    time_ns: int = 0

    @property
    def id(self) -> str:
        """The same as `annotation_id` (the name `llmtap.annotations.Annotation` uses)."""
        return self.annotation_id

    def as_dict(self) -> dict[str, Any]:
        """Every field, and `time` in ISO 8601 UTC (the `llmtap show --json` annotation shape)."""
        data = asdict(self)
        data["time"] = iso_time(self.time_ns)
        return data


@dataclass(frozen=True)
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
