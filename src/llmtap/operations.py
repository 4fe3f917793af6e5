"""Spans of GenAI operations that are not model calls (execute_tool, retrieval, invoke_agent,
invoke_workflow): the one mechanism behind the structure decorators (`llmtap.decorators`) and the
framework plugins, plus the parenting helper framework plugins need to place any span explicitly.

Framework plugins (LangChain, ...) know each step's parent from their own run tree, not from the
current OpenTelemetry context; these helpers start a span under an explicit parent without leaving
anything attached.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv.attributes import error_attributes
from opentelemetry.trace import Span, SpanKind

from llmtap import backends
from llmtap.content import content_attributes, json_text, text_attribute
from llmtap.emitter import CANCELLED, error_type, record_failure
from llmtap.record import ERROR, is_cancellation, stream_outcome
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
    kind = backends.SPAN_KINDS.get(operation)
    if kind is not None:
        span_attributes[backends.SPAN_KIND] = kind
    if attributes:
        span_attributes.update(attributes)
    span_name = f"{operation} {name}" if name else operation
    follow_global_provider()
    context = trace.set_span_in_context(parent) if parent is not None else None
    return runtime.emitter.tracer.start_span(
        span_name, context=context, kind=SpanKind.INTERNAL, attributes=span_attributes
    )


def _never_raises(write: Callable[..., None]) -> Callable[..., None]:
    """Content writers never raise: whatever the application's data, the span still ends."""

    @functools.wraps(write)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            write(*args, **kwargs)
        except Exception as exc:
            report_internal_error(f"writing content ({write.__name__})", exc)

    return guarded


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


@_never_raises
def add_query(runtime: Runtime, span: Span, query: str) -> None:
    """A retrieval's query text (`gen_ai.retrieval.query.text`, also the span's input for the backends;
    truncated and counted like every content attribute) when the content policy allows."""
    if runtime.settings.capture_content and span.is_recording():
        attributes: dict[str, Any] = {}
        limit = runtime.settings.max_content_chars
        text_attribute(gen_ai.GEN_AI_RETRIEVAL_QUERY_TEXT, query, limit, attributes)
        backends.io_attributes("input", query, limit, attributes)
        span.set_attributes(attributes)


@_never_raises
def add_input(runtime: Runtime, span: Span, value: Any, messages: list[Any] | None = None) -> None:
    """A workflow's or agent's input, when the content policy allows: `gen_ai.input.messages` (the
    conventions; `messages` when the caller has them in the message shape, else one user message holding
    `value` as text) and the span input the backends show (`llmtap.backends`). Truncated like all content."""
    if not runtime.settings.capture_content or not span.is_recording():
        return
    if messages is None:
        messages = [{"role": "user", "parts": [{"type": "text", "content": json_text(value)}]}]
    attributes: dict[str, Any] = {}
    limit = runtime.settings.max_content_chars
    content_attributes(gen_ai.GEN_AI_INPUT_MESSAGES, messages, limit, attributes)
    backends.io_attributes("input", value, limit, attributes)
    span.set_attributes(attributes)


@_never_raises
def add_output(runtime: Runtime, span: Span, value: Any, messages: list[Any] | None = None) -> None:
    """A workflow's or agent's output, like `add_input`: `gen_ai.output.messages` (`messages`, else one
    assistant message holding `value` as text, finish reason "stop") and the backends' span output."""
    if not runtime.settings.capture_content or not span.is_recording():
        return
    if messages is None:
        part = {"type": "text", "content": json_text(value)}
        messages = [{"role": "assistant", "parts": [part], "finish_reason": "stop"}]
    attributes: dict[str, Any] = {}
    limit = runtime.settings.max_content_chars
    content_attributes(gen_ai.GEN_AI_OUTPUT_MESSAGES, messages, limit, attributes)
    backends.io_attributes("output", value, limit, attributes)
    span.set_attributes(attributes)


@_never_raises
def add_documents(runtime: Runtime, span: Span, documents: list[dict[str, Any]]) -> None:
    """A retrieval's documents in the conventions' shape (`{"id", "score", "content", "metadata"}`, each key
    only when known; the caller leaves `content` out unless the content policy allows it) as
    `gen_ai.retrieval.documents`; also as the span output and, when Phoenix would drop the list for a
    missing score or id, as OpenInference's per-document keys (`llmtap.backends`). No score is invented."""
    if not span.is_recording():
        return
    attributes: dict[str, Any] = {}
    limit = runtime.settings.max_content_chars
    content_attributes(gen_ai.GEN_AI_RETRIEVAL_DOCUMENTS, documents, limit, attributes)
    if backends.phoenix_drops(documents):
        backends.document_attributes(documents, limit, attributes)
    if runtime.settings.capture_content:
        backends.io_attributes("output", documents, limit, attributes)
    span.set_attributes(attributes)


def end_operation(runtime: Runtime | None, span: Span, error: BaseException | None = None) -> None:
    """End the span; an `error` sets `error.type`, status ERROR and an `exception` event (`record_failure`).

    The consumer stopping (a generator closed early, asyncio cancellation) is no failure; a cancelled step
    gets `llmtap.cancelled=true`, as every cancelled call (`llmtap.record.is_cancellation`). The error's
    message is recorded only under content capture, scrubbed of key-shaped tokens (errors quote arguments
    and queries).
    """
    if error is not None and stream_outcome(error) == ERROR and span.is_recording():
        kind = error_type(error)
        capture = runtime is not None and runtime.settings.capture_content
        span.set_attribute(error_attributes.ERROR_TYPE, kind)
        record_failure(span, kind, error, None, capture)
    elif is_cancellation(error) and span.is_recording():
        span.set_attribute(CANCELLED, True)
    span.end()
