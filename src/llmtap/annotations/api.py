"""`llmtap.annotate()`: check an annotation against its schema, find its target, emit it."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

from llmtap import runtime
from llmtap.annotations import emit, pending, targets, watch
from llmtap.annotations.model import Annotation, Target
from llmtap.annotations.schema import ANNOTATOR_KINDS, AnnotationSchema, Checked, open_check, parse_schemas
from llmtap.config import Settings
from llmtap.errors import AnnotationError
from llmtap.safety import report_internal_error

_compiled: tuple[Settings | None, dict[str, AnnotationSchema]] = (None, {})
_compile_lock = threading.Lock()
# Called with each delivered annotation (routing re-evaluates its trace); must return quickly.
_listeners: list[Callable[[Annotation], None]] = []


def add_listener(callback: Callable[[Annotation], None]) -> None:
    if callback not in _listeners:
        _listeners.append(callback)


def remove_listener(callback: Callable[[Annotation], None]) -> None:
    if callback in _listeners:
        _listeners.remove(callback)


def schemas(settings: Settings | None = None) -> dict[str, AnnotationSchema]:
    """The annotation schemas of `settings` (default: those in force), compiled once per settings object."""
    global _compiled
    settings = settings if settings is not None else runtime.current_settings()
    cached_for, compiled = _compiled
    if cached_for is settings:
        return compiled
    with _compile_lock:
        compiled = parse_schemas(settings.tables.get("annotations"), settings.source)
        _compiled = (settings, compiled)
    return compiled


@dataclass(frozen=True, slots=True)
class Prepared:
    """A checked annotation not yet delivered, with what delivering it needs."""

    annotation: Annotation
    schema: AnnotationSchema | None
    settings: Settings
    live_span: Any
    response_id: str | None


def check_value(
    settings: Settings,
    name: Any,
    value: Any,
    explanation: Any = None,
    annotator_kind: Any = "human",
    target_kind: str | None = None,
) -> tuple[AnnotationSchema | None, Checked]:
    """Check name, value, explanation, annotator kind and target kind against the schema (no target needed).

    The one check `annotate()` and `llmtap annotations check` apply.
    """
    declared = schemas(settings)
    if not isinstance(name, str) or not name:
        raise AnnotationError(f"annotation name={name!r}: expected a non-empty string")
    schema = declared.get(name)
    if schema is None and settings.annotations_mode != "open":
        known = ", ".join(sorted(declared)) or "none are declared"
        raise AnnotationError(
            f"annotation {name!r}: not declared in [tool.llmtap.annotations]; expected one of: {known} "
            "(or LLMTAP_ANNOTATIONS_MODE=open to accept undeclared annotations)"
        )
    checked = open_check(name, value) if schema is None else schema.check(value)
    if explanation is not None and not isinstance(explanation, str):
        raise AnnotationError(f"annotation {name!r}: explanation={explanation!r}: expected a string or None")
    if schema is not None and schema.explanation == "required" and not (explanation or "").strip():
        raise AnnotationError(
            f"annotation {name!r}: explanation={explanation!r}: the schema requires an explanation "
            f"(schema version {schema.version})"
        )
    if annotator_kind not in ANNOTATOR_KINDS:
        raise AnnotationError(
            f"annotation {name!r}: annotator_kind={annotator_kind!r}: expected one of {', '.join(ANNOTATOR_KINDS)}"
        )
    if schema is not None and annotator_kind not in schema.annotators:
        raise AnnotationError(
            f"annotation {name!r}: annotator_kind={annotator_kind!r}: the schema allows {', '.join(schema.annotators)}"
        )
    if target_kind is not None:
        _check_target_kind(schema, name, target_kind)
    return schema, checked


def _check_target_kind(schema: AnnotationSchema | None, name: str, kind: str) -> None:
    if schema is not None and kind not in schema.targets:
        raise AnnotationError(
            f"annotation {name!r}: target kind {kind!r}: the schema allows {', '.join(schema.targets)}"
        )


def _metadata(name: str, metadata: Any) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping) or not all(isinstance(key, str) for key in metadata):
        raise AnnotationError(f"annotation {name!r}: metadata={metadata!r}: expected a mapping with string keys")
    try:
        json.dumps(metadata)
    except (TypeError, ValueError):
        raise AnnotationError(
            f"annotation {name!r}: metadata={metadata!r}: expected JSON values (strings, numbers, booleans, lists, "
            "mappings)"
        ) from None
    return dict(metadata)


def prepare(
    target: Any,
    name: Any,
    value: Any,
    *,
    explanation: Any = None,
    annotator: Any = None,
    annotator_kind: Any = "human",
    metadata: Any = None,
    annotation_id: str | None = None,
) -> Prepared:
    """Everything `annotate()` checks, without emitting anything. `annotation_id`: default a random one."""
    settings = runtime.ensure().settings
    schema, checked = check_value(settings, name, value, explanation, annotator_kind)
    if annotator is not None and not isinstance(annotator, str):
        raise AnnotationError(f"annotation {name!r}: annotator={annotator!r}: expected a string (who) or None")
    extra = _metadata(name, metadata)
    resolved = targets.resolve(target)
    found: Target = resolved.target
    _check_target_kind(schema, name, found.kind)
    if found.join is not None:
        ref = pending.holder().lookup(found.join)
        if ref is not None:
            found = found.resolved(ref)
    annotation = Annotation(
        id=annotation_id or os.urandom(16).hex(),  # 128 random bits, as a UUID4 has, without its slow constructor
        name=name,
        value=checked.value,
        score=checked.score,
        explanation=explanation,
        schema_version=None if schema is None else schema.version,
        target=found,
        annotator=annotator,
        annotator_kind=annotator_kind,
        created_at=datetime.now(UTC),
        metadata=extra,
        label=checked.label,
    )
    return Prepared(annotation, schema, settings, resolved.live_span, resolved.response_id)


def _deliver(
    annotation: Annotation, live_span: Any, response_id: str | None = None, settings: Settings | None = None
) -> None:
    """Emit `annotation` (and put it on its span if that is still open). Never raises."""
    try:
        settings = settings if settings is not None else runtime.current_settings()
        schema = schemas(settings).get(annotation.name)
        if not settings.enabled:
            return
        text_value = schema is not None and schema.type == "text"
        with_content = emit.content_allowed(settings.capture_content, schema is not None and schema.safe)
        attributes = emit.record_attributes(
            annotation,
            with_content=with_content,
            max_chars=settings.max_content_chars,
            text_value=text_value,
            response_id=response_id,
        )
        emit.emit(annotation, attributes)
        if live_span is not None and live_span.is_recording():
            live_span.set_attributes(emit.span_attributes(annotation, text_value=text_value, with_content=with_content))
        for listener in list(_listeners):
            listener(annotation)
    except Exception as exc:
        report_internal_error("emitting an annotation", exc)


def _watch_joins() -> None:
    """Resolve pending annotations on the spans of the tracer provider llmtap writes through."""
    state = runtime.current()
    given = state.tracer_provider if state is not None else None
    watch.install(given if given is not None else trace.get_tracer_provider(), _deliver)


def commit(prepared: Prepared) -> Annotation:
    """Deliver a prepared annotation: emit it now; a pending one is also kept until its span appears."""
    annotation = prepared.annotation
    _deliver(annotation, prepared.live_span, prepared.response_id, prepared.settings)
    if annotation.pending and prepared.settings.enabled:
        try:
            pending.holder().add(annotation)
            _watch_joins()
        except Exception as exc:
            report_internal_error("keeping a pending annotation", exc)
    return annotation


def annotate(
    target: Any,
    name: str,
    value: Any,
    *,
    explanation: str | None = None,
    annotator: str | None = None,
    annotator_kind: str = "human",
    metadata: Mapping[str, Any] | None = None,
) -> Annotation:
    """Record a judgement on a span, trace or session, checked against `[tool.llmtap.annotations.<name>]`.

    `target`: a `SpanRef`, a span (or the `LLMTracer` span handle), an SDK response object (through
    `llmtap.span_of`), a trace id (32 hex digits), `{"session_id": ...}`, or a join key
    `{"join": {"label": "message_id", "value": "m-123"}}` (the span whose label has that value).
    `annotator_kind`: human | end_user | llm | code. Raises `llmtap.AnnotationError` naming the field, the
    value and what the schema allows. The annotation is emitted as a `gen_ai.evaluation.result` log record.
    """
    return commit(
        prepare(
            target,
            name,
            value,
            explanation=explanation,
            annotator=annotator,
            annotator_kind=annotator_kind,
            metadata=metadata,
        )
    )
