"""The `Annotation` record and its `Target`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

from llmtap.refs import SpanRef


class JoinKey(NamedTuple):
    """A key of the application's own: the span whose label `label` has the value `value`."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Target:
    """What an annotation is about. `kind` is `span`, `trace` or `session`.

    A span target given by a join key has `join` set; until a span with that label value is found,
    its `trace_id` and `span_id` are None (the annotation is pending).
    """

    kind: str
    trace_id: str | None = None
    span_id: str | None = None
    session_id: str | None = None
    join: JoinKey | None = None

    @property
    def pending(self) -> bool:
        return self.kind == "span" and self.span_id is None

    @property
    def ref(self) -> SpanRef | None:
        if self.trace_id is None or self.span_id is None:
            return None
        return SpanRef(self.trace_id, self.span_id)

    def resolved(self, ref: SpanRef) -> Target:
        return replace(self, trace_id=ref.trace_id, span_id=ref.span_id)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        for key in ("trace_id", "span_id", "session_id"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.join is not None:
            data["join"] = {"label": self.join.label, "value": self.join.value}
        return data


@dataclass(frozen=True, slots=True)
class Annotation:
    """One judgement on a span, trace or session, checked against its schema.

    `value` is the value as recorded (a categorical label, a number, a boolean or a text); `score` is its
    numeric score where the schema gives one; `schema_version` is None for an undeclared annotation
    (`LLMTAP_ANNOTATIONS_MODE=open`).
    """

    id: str
    name: str
    value: str | int | float | bool
    score: float | None
    explanation: str | None
    schema_version: int | None
    target: Target
    annotator: str | None
    annotator_kind: str
    created_at: datetime
    metadata: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None  # gen_ai.evaluation.score.label: a categorical label or true/false

    @property
    def pending(self) -> bool:
        """Whether the target is a join key no span has matched yet."""
        return self.target.pending

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the shape `llmtap annotations pending --json` prints)."""
        return {
            "id": self.id,
            "name": self.name,
            "value": self.value,
            "score": self.score,
            "label": self.label,
            "explanation": self.explanation,
            "schema_version": self.schema_version,
            "target": self.target.as_dict(),
            "annotator": self.annotator,
            "annotator_kind": self.annotator_kind,
            "created_at": self.created_at.isoformat(),
            "metadata": dict(self.metadata),
        }
