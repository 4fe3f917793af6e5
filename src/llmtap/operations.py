"""Spans of GenAI operations that are not model calls (execute_tool, retrieval, invoke_agent,
invoke_workflow): the one mechanism behind the structure decorators (`llmtap.decorators`) and the
framework plugins, plus the parenting helper framework plugins need to place any span explicitly.

Framework plugins (LangChain, ...) know each step's parent from their own run tree, not from the
current OpenTelemetry context; these helpers start a span under an explicit parent without leaving
anything attached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv.attributes import error_attributes
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from llmtap.content import content_attributes, text_attribute
from llmtap.emitter import error_type
from llmtap.record import ERROR, stream_outcome
from llmtap.redaction import scrub
from llmtap.runtime import Runtime, follow_global_provider
from llmtap.safety import report_internal_error

EXECUTE_TOOL = "execute_tool"
RETRIEVAL = "retrieval"
INVOKE_AGENT = "invoke_agent"
INVOKE_WORKFLOW = "invoke_workflow"

T = TypeVar("T")


def under(parent: Span | None, start: Callable[[], T]) -> T:
    """Run `start` (which starts a span from the current context) with `parent` as the current span.

    With `parent=None` the span becomes a root unless something else is current. The attach is
    always detached before returning.
    """
    if parent is None:
        return start()
    token = otel_context.attach(trace.set_span_in_context(parent))
    try:
        return start()
    finally:
        otel_context.detach(token)


def start_operation(
    runtime: Runtime,
    operation: str,
    name: str | None,
    parent: Span | None = None,
    attributes: dict[str, Any] | None = None,
) -> Span:
    """Start an INTERNAL span `"{operation} {name}"` (or just the operation) under `parent`.

    With `parent=None` the span's parent is the current span (how the decorators nest).
    """
    span_attributes: dict[str, Any] = {gen_ai.GEN_AI_OPERATION_NAME: operation}
    if attributes:
        span_attributes.update(attributes)
    span_name = f"{operation} {name}" if name else operation
    follow_global_provider()
    context = trace.set_span_in_context(parent) if parent is not None else None
    return runtime.emitter.tracer.start_span(
        span_name, context=context, kind=SpanKind.INTERNAL, attributes=span_attributes
    )


def add_content(runtime: Runtime, span: Span, name: str, value: Any) -> None:
    """Write captured content (JSON, redacted and bounded like every content attribute) when the policy
    allows. Never raises: the span still ends."""
    if not runtime.settings.capture_content or not span.is_recording():
        return
    try:
        attributes: dict[str, Any] = {}
        content_attributes(name, value, runtime.settings.max_content_chars, attributes)
        span.set_attributes(attributes)
    except Exception as exc:
        report_internal_error(f"writing {name}", exc)


def add_query(runtime: Runtime, span: Span, query: str) -> None:
    """A retrieval's query text (`gen_ai.retrieval.query.text`, truncated and counted like every content
    attribute) when the content policy allows."""
    if runtime.settings.capture_content and span.is_recording():
        attributes: dict[str, Any] = {}
        text_attribute(gen_ai.GEN_AI_RETRIEVAL_QUERY_TEXT, query, runtime.settings.max_content_chars, attributes)
        span.set_attributes(attributes)


def end_operation(runtime: Runtime | None, span: Span, error: BaseException | None = None) -> None:
    """End the span; an `error` sets `error.type` and status ERROR.

    The consumer stopping (a generator closed early, asyncio cancellation) is no failure. The status
    description is the error's message scrubbed of key-shaped tokens, or with content capture off only
    its type (errors quote arguments and queries).
    """
    if error is not None and stream_outcome(error) == ERROR and span.is_recording():
        kind = error_type(error)
        capture = runtime is not None and runtime.settings.capture_content
        description = scrub(str(error))[:1024] if capture else kind
        span.set_attribute(error_attributes.ERROR_TYPE, kind)
        span.set_status(Status(StatusCode.ERROR, description))
    span.end()
