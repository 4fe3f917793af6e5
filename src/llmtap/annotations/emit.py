"""Annotations as OpenTelemetry log records: event `gen_ai.evaluation.result`, linked to the target's trace and span.

The logger provider, first found wins: the one given to `llmtap.instrument(logger_provider=...)`, the
global one the application installed, one built from `OTEL_LOGS_EXPORTER` / `OTEL_EXPORTER_OTLP_*`
(`llmtap.providers.build_logger_provider`), else the global proxy (records flow once the application
installs a provider).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

from opentelemetry import _logs, trace
from opentelemetry._logs import SeverityNumber
from opentelemetry._logs._internal import ProxyLoggerProvider
from opentelemetry.context import Context
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from llmtap import providers, runtime
from llmtap.annotations import attributes as names
from llmtap.annotations.model import Annotation
from llmtap.content import text_attribute
from llmtap.runtime import INSTRUMENTATION_SCOPE
from llmtap.version import __version__

EVENT_NAME = "gen_ai.evaluation.result"

_lock = threading.Lock()
_loggers: dict[int, tuple[Any, Any]] = {}  # id(provider) -> (provider, logger)
_ENVIRONMENT = ("OTEL_LOGS_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")
_from_environment: dict[tuple[str, ...], Any] = {}  # those settings -> the provider built for them (or None)


def _environment_provider() -> Any:
    key = tuple(os.environ.get(name, "") for name in _ENVIRONMENT)
    provider = _from_environment.get(key, _from_environment)
    if provider is _from_environment:
        with _lock:
            if key not in _from_environment:
                _from_environment[key] = providers.build_logger_provider()
            provider = _from_environment[key]
    return provider


def logger_provider() -> Any:
    """The logger provider annotations are emitted through (see the module docstring); when spans are recorded
    into the local store, it records the annotations there too (`llmtap.store.wiring.logs_through`)."""
    store_wiring = sys.modules.get("llmtap.store.wiring")  # loaded when `instrument()` wired the store
    chosen = _chosen_logger_provider()
    return chosen if store_wiring is None else store_wiring.logs_through(chosen)


def _chosen_logger_provider() -> Any:
    state = runtime.current()
    if state is not None and state.logger_provider is not None:
        return state.logger_provider
    global_provider = _logs.get_logger_provider()
    if not isinstance(global_provider, ProxyLoggerProvider):
        return global_provider
    built = _environment_provider()
    return built if built is not None else global_provider


def _logger(provider: Any) -> Any:
    entry = _loggers.get(id(provider))
    if entry is None or entry[0] is not provider:
        logger = provider.get_logger(INSTRUMENTATION_SCOPE, __version__, schema_url=runtime._SCHEMA_URL)
        entry = _loggers[id(provider)] = (provider, logger)
    return entry[1]


def content_allowed(capture_content: bool, safe: bool) -> bool:
    """Explanations and text values are content: exported under content capture, or when the schema marks them safe."""
    return capture_content or safe


def record_attributes(
    annotation: Annotation,
    *,
    with_content: bool,
    max_chars: int,
    text_value: bool,
    response_id: str | None = None,
) -> dict[str, Any]:
    """The log record's attributes: semconv `gen_ai.evaluation.*` plus `llmtap.annotation.*`."""
    out: dict[str, Any] = {gen_ai.GEN_AI_EVALUATION_NAME: annotation.name, names.ID: annotation.id}
    if annotation.score is not None:
        out[gen_ai.GEN_AI_EVALUATION_SCORE_VALUE] = annotation.score
    if annotation.label is not None:
        out[gen_ai.GEN_AI_EVALUATION_SCORE_LABEL] = annotation.label
    if annotation.explanation is not None and with_content:
        text_attribute(gen_ai.GEN_AI_EVALUATION_EXPLANATION, annotation.explanation, max_chars, out)
    if response_id is not None:
        out[gen_ai.GEN_AI_RESPONSE_ID] = response_id
    if not text_value:
        out[names.VALUE] = annotation.value
    elif with_content:
        text_attribute(names.VALUE, str(annotation.value), max_chars, out)
    out[names.ANNOTATOR_KIND] = annotation.annotator_kind
    if annotation.annotator is not None:
        out[names.ANNOTATOR] = annotation.annotator
    if annotation.schema_version is not None:
        out[names.SCHEMA_VERSION] = annotation.schema_version
    target = annotation.target
    out[names.TARGET_KIND] = target.kind
    if target.session_id is not None:
        out[SESSION_ID] = target.session_id
    if target.join is not None:
        out[names.JOIN_LABEL] = target.join.label
        out[names.JOIN_VALUE] = target.join.value
    if annotation.metadata:
        out[names.METADATA] = json.dumps(annotation.metadata, ensure_ascii=False, separators=(",", ":"), default=str)
    return out


def _context(annotation: Annotation) -> Context:
    """A context holding the target's span (or none: a session, or a join key not resolved yet)."""
    target = annotation.target
    if target.trace_id is None:
        return trace.set_span_in_context(trace.INVALID_SPAN, Context())
    span_id = int(target.span_id, 16) if target.span_id is not None else 0
    span_context = SpanContext(int(target.trace_id, 16), span_id, is_remote=False, trace_flags=TraceFlags(0))
    return trace.set_span_in_context(NonRecordingSpan(span_context), Context())


def emit(annotation: Annotation, attributes: dict[str, Any]) -> None:
    """One `gen_ai.evaluation.result` log record for `annotation`."""
    _logger(logger_provider()).emit(
        timestamp=int(annotation.created_at.timestamp() * 1_000_000) * 1000,
        context=_context(annotation),
        severity_number=SeverityNumber.INFO,
        attributes=attributes,
        event_name=EVENT_NAME,
    )


def span_attributes(annotation: Annotation, *, text_value: bool, with_content: bool) -> dict[str, Any]:
    """`llmtap.annotation.<name>` (and `.score`) for a span that is still open."""
    out: dict[str, Any] = {}
    key = names.SPAN_PREFIX + annotation.name
    if not text_value or with_content:
        out[key] = annotation.value
    if annotation.score is not None and annotation.score != annotation.value:
        out[key + ".score"] = annotation.score
    return out
