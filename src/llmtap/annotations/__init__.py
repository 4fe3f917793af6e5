"""Annotations: schema-checked judgements (human, end user, LLM judge, code) on spans, traces and sessions,
emitted as OpenTelemetry `gen_ai.evaluation.result` log records.

    llmtap.annotate(llmtap.span_of(response), "human_feedback", "good", annotator_kind="end_user")
    token = llmtap.feedback_token(llmtap.span_of(response), names=["human_feedback"])
    llmtap.annotate_from_token(token, "human_feedback", "bad", explanation="wrong city")

Nothing on the capture path imports this package. Its modules load on first use, so a reader of the
records (the local store) can import `llmtap.annotations.attributes` alone.
"""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmtap.annotations.api import annotate, check_value, schemas
    from llmtap.annotations.model import Annotation, JoinKey, Target
    from llmtap.annotations.schema import AnnotationSchema
    from llmtap.annotations.tokens import annotate_from_token, feedback_token

_WHERE = {
    "annotate": "api",
    "check_value": "api",
    "schemas": "api",
    "Annotation": "model",
    "JoinKey": "model",
    "Target": "model",
    "AnnotationSchema": "schema",
    "annotate_from_token": "tokens",
    "feedback_token": "tokens",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'llmtap.annotations' has no attribute {name!r}")
    value = globals()[name] = getattr(import_module(f"llmtap.annotations.{module}"), name)  # looked up once
    return value


def pending_annotations(older_than: timedelta = timedelta(0)) -> list[Annotation]:
    """Annotations of this process still waiting for a span with their join key, older than `older_than`."""
    from llmtap.annotations import pending

    return pending.holder().older_than(older_than)


__all__ = [
    "Annotation",
    "AnnotationSchema",
    "JoinKey",
    "Target",
    "annotate",
    "annotate_from_token",
    "check_value",
    "feedback_token",
    "pending_annotations",
    "schemas",
]
