"""The one emitter: writes an `LLMCall` as a GenAI CLIENT span plus the client metrics."""

from __future__ import annotations

import time
import traceback
from typing import Any

from opentelemetry.context import Context
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv.attributes import error_attributes, exception_attributes, server_attributes
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from llmtap.attribute_types import typed
from llmtap.content import content_attributes
from llmtap.cost.pricer import Cost, Pricer
from llmtap.layers import COVERED
from llmtap.metrics import GenAIMetrics
from llmtap.record import LLMCall
from llmtap.redaction import scrub
from llmtap.safety import report_internal_error

STREAM_OUTCOME = "llmtap.stream.outcome"
COST = "llmtap.usage.cost"
COST_SOURCE = "llmtap.usage.cost_source"
# A span whose call (or step) was cancelled (`llmtap.record.is_cancellation`): no error, this instead.
CANCELLED = "llmtap.cancelled"
_INVOKE_WORKFLOW = gen_ai.GenAiOperationNameValues.INVOKE_WORKFLOW.value
EXCEPTION_EVENT = "exception"
_MAX_ERROR_MESSAGE = 1024
_MAX_STACKTRACE = 8192


def error_type(exc: BaseException) -> str:
    return type(exc).__qualname__


def exception_type(exc: BaseException) -> str:
    """The exception's fully-qualified class name (`exception.type`), as the OTel SDK writes it."""
    cls = type(exc)
    module = cls.__module__
    return f"{module}.{cls.__qualname__}" if module and module != "builtins" else cls.__qualname__


def record_failure(
    span: Span,
    kind: str,
    error: BaseException | None,
    message: str | None,
    capture_content: bool,
) -> None:
    """Mark `span` failed: status ERROR and an OTel `exception` event, where backends read the error type.

    The one failure path of model and operation spans. `kind` is the call's `error.type`; `error` the
    exception (None for a failure the API reported in-band, whose `message` is given). The event's
    `exception.type` is always written; the message (also the status description) and the stack trace only
    under content capture, scrubbed of every known credential and key pattern (`llmtap.redaction.scrub`): API
    errors often quote the input and the key. With content capture off the status description is the error
    type alone.
    """
    event: dict[str, Any] = {exception_attributes.EXCEPTION_TYPE: exception_type(error) if error is not None else kind}
    description = kind
    if capture_content:
        text = str(error) if message is None else message
        description = scrub(text)[:_MAX_ERROR_MESSAGE]
        event[exception_attributes.EXCEPTION_MESSAGE] = description
        if error is not None:
            stack = "".join(traceback.format_exception(error))
            event[exception_attributes.EXCEPTION_STACKTRACE] = scrub(stack)[-_MAX_STACKTRACE:]
    span.set_status(Status(StatusCode.ERROR, description))
    span.add_event(EXCEPTION_EVENT, event)


def _is_count(value: Any) -> bool:
    """A token count as the conventions type it (an int); a malformed response's "12" or None is left out."""
    return type(value) is int


def _identity_attributes(call: LLMCall) -> dict[str, Any]:
    """What identifies a call on its span and on its metric points: operation, provider, model, server."""
    attributes: dict[str, Any] = {
        gen_ai.GEN_AI_OPERATION_NAME: call.operation,
        gen_ai.GEN_AI_PROVIDER_NAME: call.provider,
    }
    if call.request_model:
        attributes[gen_ai.GEN_AI_REQUEST_MODEL] = call.request_model
    if call.server_address:
        attributes[server_attributes.SERVER_ADDRESS] = call.server_address
        if call.server_port:
            attributes[server_attributes.SERVER_PORT] = call.server_port
    return attributes


class Emitter:
    """Starts and ends GenAI spans and records metrics. Shared by every provider plugin."""

    __slots__ = ("_capture_content", "_cost_dimensions", "_max_chars", "_metrics", "_pricer", "_tracer")

    def __init__(
        self,
        tracer: Tracer,
        metrics: GenAIMetrics,
        max_content_chars: int,
        capture_content: bool = True,
        pricer: Pricer | None = None,
        cost_dimensions: tuple[str, ...] = (),
    ) -> None:
        self._tracer = tracer
        self._metrics = metrics
        self._max_chars = max_content_chars
        self._capture_content = capture_content  # the policy (a call may capture nothing for other reasons)
        self._pricer = pricer
        # Span attributes (labels marked `metric = true`) copied onto the cost metric's points.
        self._cost_dimensions = cost_dimensions

    @property
    def tracer(self) -> Tracer:
        """The tracer of llmtap's spans (also the non-model operation spans of `llmtap.operations`)."""
        return self._tracer

    def start(self, call: LLMCall, context: Context | None = None, start_time: int | None = None) -> Span:
        """Start the model span of `call` in `context` (default: the current one), at `start_time` (ns)."""
        attributes = _identity_attributes(call)
        if call.request_attributes:
            typed(call.request_attributes, attributes)
        return self._tracer.start_span(
            call.span_name, context=context, kind=SpanKind.CLIENT, attributes=attributes, start_time=start_time
        )

    def finish(self, call: LLMCall, span: Span, start: float, end: float | None = None) -> None:
        """End the span of `call` (started at perf_counter `start`) and record its metrics and cost."""
        now = time.perf_counter()
        end_time_ns = None
        if end is None:
            end = now
        else:  # the call finished earlier than it is being recorded (e.g. a raw response parsed later)
            end_time_ns = time.time_ns() - int((now - end) * 1e9)
        cost = self._pricer.price(call) if self._pricer is not None else None
        if span.is_recording():
            try:  # whatever the response held, the span ends and is exported with what could be written
                attributes = self._response_attributes(call)
                if cost is not None:
                    attributes[COST] = cost.usd
                    attributes[COST_SOURCE] = cost.source
                span.set_attributes(attributes)
            except Exception as exc:
                report_internal_error("writing a span's attributes", exc)
            self._failure(call, span)
        span.end(end_time_ns)
        self._record_metrics(call, end - start)
        if cost is not None:
            self._record_cost(call, cost, span)

    def finish_covered(self, call: LLMCall, span: Span) -> None:
        """End the span of a model-call layer whose API call(s) the model span(s) below it recorded
        (`llmtap.layers`): an `invoke_workflow {model}` span, with the layer's facts and captured content
        but no usage, response attributes or metrics (backends sum those over spans)."""
        if span.is_recording():
            name = call.request_model or call.operation
            span.update_name(f"{_INVOKE_WORKFLOW} {name}")
            attributes: dict[str, Any] = {
                gen_ai.GEN_AI_OPERATION_NAME: _INVOKE_WORKFLOW,
                gen_ai.GEN_AI_WORKFLOW_NAME: name,
                COVERED: True,
            }
            # The layer's facts; what the response said (`*.response.*`) is the model span's.
            attributes.update((key, value) for key, value in call.attributes.items() if ".response." not in key)
            self._outcome_attributes(call, attributes)
            try:  # whatever the content held, the span ends
                self._content_attributes(call, attributes)
            except Exception as exc:
                report_internal_error("writing a span's attributes", exc)
            span.set_attributes(attributes)
            self._failure(call, span)
        span.end()

    def _failure(self, call: LLMCall, span: Span) -> None:
        failed = call.error_type
        if failed is not None:
            message = call.failure[1] if call.error is None and call.failure else None
            record_failure(span, failed, call.error, message, self._capture_content)

    def _response_attributes(self, call: LLMCall) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        if call.response_id:
            attributes[gen_ai.GEN_AI_RESPONSE_ID] = call.response_id
        if call.response_model:
            attributes[gen_ai.GEN_AI_RESPONSE_MODEL] = call.response_model
        if call.finish_reasons:
            attributes[gen_ai.GEN_AI_RESPONSE_FINISH_REASONS] = call.finish_reasons
        usage = call.usage
        for name, count in (
            (gen_ai.GEN_AI_USAGE_INPUT_TOKENS, usage.input_tokens),
            (gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS, usage.output_tokens),
            (gen_ai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cache_read_input_tokens),
            (gen_ai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, usage.cache_creation_input_tokens),
            (gen_ai.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoning_output_tokens),
        ):
            if _is_count(count):
                attributes[name] = count
        if call.streaming:
            if call.time_to_first_chunk is not None:
                attributes[gen_ai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = call.time_to_first_chunk
            if call.stream_outcome:
                attributes[STREAM_OUTCOME] = call.stream_outcome
        if call.attributes:
            attributes.update(call.attributes)
        self._outcome_attributes(call, attributes)
        self._content_attributes(call, attributes)
        return attributes

    @staticmethod
    def _outcome_attributes(call: LLMCall, attributes: dict[str, Any]) -> None:
        if call.error_type is not None:
            attributes[error_attributes.ERROR_TYPE] = call.error_type
        elif call.cancelled:
            attributes[CANCELLED] = True

    def _content_attributes(self, call: LLMCall, attributes: dict[str, Any]) -> None:
        if call.capture_content:
            limit = self._max_chars
            if call.system_instructions:
                content_attributes(gen_ai.GEN_AI_SYSTEM_INSTRUCTIONS, call.system_instructions, limit, attributes)
            if call.input_messages:
                content_attributes(gen_ai.GEN_AI_INPUT_MESSAGES, call.input_messages, limit, attributes)
            if call.output_messages:
                content_attributes(gen_ai.GEN_AI_OUTPUT_MESSAGES, call.output_messages, limit, attributes)
        # Tool definitions are schema, not conversation content, but may embed user text: same policy.
        if call.tool_definitions and call.capture_content:
            content_attributes(
                gen_ai.GEN_AI_TOOL_DEFINITIONS, call.tool_definitions, self._max_chars, attributes, names=False
            )

    def _record_metrics(self, call: LLMCall, duration: float) -> None:
        attributes = _identity_attributes(call)
        if call.response_model:
            attributes[gen_ai.GEN_AI_RESPONSE_MODEL] = call.response_model
        metrics = self._metrics
        failed = call.error_type
        if failed is not None:
            metrics.duration.record(duration, {**attributes, error_attributes.ERROR_TYPE: failed})
        else:
            metrics.duration.record(duration, attributes)
        if call.streaming and call.time_to_first_chunk is not None:
            metrics.time_to_first_chunk.record(call.time_to_first_chunk, attributes)
        usage = call.usage
        if _is_count(usage.input_tokens):
            metrics.token_usage.record(usage.input_tokens, {**attributes, gen_ai.GEN_AI_TOKEN_TYPE: "input"})
        if _is_count(usage.output_tokens):
            metrics.token_usage.record(usage.output_tokens, {**attributes, gen_ai.GEN_AI_TOKEN_TYPE: "output"})

    def _record_cost(self, call: LLMCall, cost: Cost, span: Span) -> None:
        attributes: dict[str, Any] = {gen_ai.GEN_AI_PROVIDER_NAME: call.provider}
        if call.request_model:
            attributes[gen_ai.GEN_AI_REQUEST_MODEL] = call.request_model
        if call.response_model:
            attributes[gen_ai.GEN_AI_RESPONSE_MODEL] = call.response_model
        if self._cost_dimensions:
            stamped = getattr(span, "attributes", None) or {}
            for name in self._cost_dimensions:
                value = stamped.get(name)
                if value is not None:
                    attributes[name] = value
        self._metrics.cost.add(cost.usd, attributes)
