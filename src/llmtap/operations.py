"""Spans of GenAI operations that are not model calls (execute_tool, retrieval, invoke_agent,
invoke_workflow), and the parenting helpers framework plugins need to place any span explicitly.

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

from llmtap.content import content_attributes
from llmtap.emitter import Emitter, error_type, scrub
from llmtap.record import LLMCall
from llmtap.runtime import Runtime

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
    parent: Span | None,
    attributes: dict[str, Any] | None = None,
) -> Span:
    """Start an INTERNAL span `"{operation} {name}"` (or just the operation) under `parent`."""
    span_attributes: dict[str, Any] = {gen_ai.GEN_AI_OPERATION_NAME: operation}
    if attributes:
        span_attributes.update(attributes)
    span_name = f"{operation} {name}" if name else operation
    tracer = runtime.emitter._tracer
    context = trace.set_span_in_context(parent) if parent is not None else None
    return tracer.start_span(span_name, context=context, kind=SpanKind.INTERNAL, attributes=span_attributes)


def add_content(runtime: Runtime, span: Span, name: str, value: Any) -> None:
    """Write captured content (JSON, truncated like every content attribute) when the policy allows."""
    if not runtime.settings.capture_content or not span.is_recording():
        return
    attributes: dict[str, Any] = {}
    content_attributes(name, value, runtime.settings.max_content_chars, attributes)
    span.set_attributes(attributes)


def end_operation(span: Span, error: BaseException | None = None) -> None:
    if error is not None and span.is_recording():
        span.set_attribute(error_attributes.ERROR_TYPE, error_type(error))
        span.set_status(Status(StatusCode.ERROR, scrub(str(error), ())[:1024]))
    span.end()


def finish_without_metrics(emitter: Emitter, call: LLMCall, span: Span) -> None:
    """End a model-call span like `Emitter.finish` but record no metrics.

    For a layer (a framework's chat-model span) whose API call is measured by a provider span
    below it: the metrics of one API call are recorded once, by the provider layer.
    """
    if span.is_recording():
        span.set_attributes(emitter._response_attributes(call))
        if call.error is not None:
            span.set_status(Status(StatusCode.ERROR, scrub(str(call.error), call.secrets)[:1024]))
    span.end()
