"""One annotation as stored (`Store.annotations`, a trace's annotations in `TraceDetail`). Part of the interface of
`llmtap.store.api`, which gives it under its own name; a module of its own so that reading a trace without
annotations (`llmtap show`) does not pay for defining it.
"""

from __future__ import annotations

from dataclasses import asdict, field
from typing import Any

from llmtap.frozen import frozen_record
from llmtap.store.api import iso_time


@frozen_record
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
        """Every field, and `time` in ISO 8601 UTC (the `llmtap show --json` annotation shape); also under the
        names `llmtap.Annotation` gives them (`id`, `created_at`)."""
        data = asdict(self)
        data["time"] = data["created_at"] = iso_time(self.time_ns)
        data["id"] = self.annotation_id
        return data
