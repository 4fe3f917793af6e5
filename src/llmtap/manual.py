"""`llmtap.LLMTracer`: the manual API for LLM calls no plugin covers (a self-hosted model, custom HTTP).

    tracer = llmtap.LLMTracer()
    with tracer.trace_llm_call(model_name="my-model", prompt="...", tags={"user_id": "u1"}) as span:
        text = my_http_call(span.prompt)
        span.set_response(text)
        span.set_usage(input_tokens=12, output_tokens=30)

The span has the same GenAI shape as the plugins' spans (it goes through the core's `LLMCall` record,
`Invocation` and emitter), is current inside the block (so auto-instrumented calls nest under it),
and ends with status ERROR if the block raises. `tags` apply to every span started inside the block.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace

from llmtap import parts, runtime
from llmtap.invocation import Invocation
from llmtap.labels import policy as _policy
from llmtap.labels.context import pop, push
from llmtap.labels.policy import attributes_of
from llmtap.record import LLMCall, Usage
from llmtap.refs import SpanRef, span_of
from llmtap.safety import report_internal_error

DEFAULT_PROVIDER = "custom"


def _message_parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [parts.text(content)]
    if isinstance(content, list):
        return [item if isinstance(item, dict) and "type" in item else parts.text(str(item)) for item in content]
    return [parts.text(str(content))]


def input_messages(prompt: str | None, messages: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """`prompt` (one user message) or chat-style `messages` ({"role", "content" or "parts"}) in semconv shape."""
    if messages is None:
        return [] if prompt is None else [parts.message("user", [parts.text(prompt)])]
    result = []
    for item in messages:
        role = str(item.get("role", "user"))
        message_parts = item["parts"] if "parts" in item else _message_parts(item.get("content"))
        result.append(parts.message(role, list(message_parts)))
    return result


def _usage_from(usage: Any, into: Usage) -> None:
    if usage is None:
        return
    read = usage.get if isinstance(usage, dict) else (lambda name: getattr(usage, name, None))
    for target, names in (
        ("input_tokens", ("input_tokens", "prompt_tokens")),
        ("output_tokens", ("output_tokens", "completion_tokens")),
    ):
        for name in names:
            value = read(name)
            if isinstance(value, int):
                setattr(into, target, value)
                break


def response_record(response: Any, call: LLMCall) -> None:
    """Fill the output side of `call` from a text or an SDK response object (OpenAI chat / responses,
    Anthropic messages, or anything with a useful `str()`)."""
    if isinstance(response, str):
        call.output_messages = [parts.message("assistant", [parts.text(response)], "stop")]
        call.finish_reasons = ["stop"]
        return
    call.response_id = getattr(response, "id", None) if isinstance(getattr(response, "id", None), str) else None
    model = getattr(response, "model", None)
    call.response_model = model if isinstance(model, str) else None
    _usage_from(getattr(response, "usage", None), call.usage)
    choices = getattr(response, "choices", None)
    if isinstance(choices, list):  # OpenAI chat completion
        call.output_messages, call.finish_reasons = [], []
        for choice in choices:
            message = getattr(choice, "message", None)
            reason = getattr(choice, "finish_reason", None) or "stop"
            content = getattr(message, "content", None)
            call.output_messages.append(
                parts.message("assistant", [parts.text(content)] if isinstance(content, str) else [], reason)
            )
            call.finish_reasons.append(reason)
        return
    blocks = getattr(response, "content", None)
    if isinstance(blocks, list):  # Anthropic message
        texts = [parts.text(block.text) for block in blocks if isinstance(getattr(block, "text", None), str)]
        reason = getattr(response, "stop_reason", None) or "stop"
        call.output_messages = [parts.message("assistant", texts, reason)]
        call.finish_reasons = [reason]
        return
    text = getattr(response, "output_text", None)  # OpenAI responses
    if not isinstance(text, str):
        text = str(response)
    call.output_messages = [parts.message("assistant", [parts.text(text)], "stop")]
    call.finish_reasons = ["stop"]


class LLMSpan:
    """The handle `trace_llm_call` yields. Its methods never raise into the application, except
    `set_tag` in strict label mode (`llmtap.LabelError`, the documented contract)."""

    __slots__ = ("_invocation", "prompt")

    def __init__(self, invocation: Invocation | None, prompt: Any) -> None:
        self._invocation = invocation
        self.prompt = prompt

    @property
    def span(self) -> trace.Span:
        return trace.INVALID_SPAN if self._invocation is None else self._invocation.span

    @property
    def ref(self) -> SpanRef | None:
        """`SpanRef(trace_id, span_id)` of this call, for linking feedback to it later."""
        return SpanRef.from_context(self.span.get_span_context())

    def set_response(self, response: Any) -> None:
        """The model's answer: a text, or the SDK response object."""
        if self._invocation is None:
            return
        try:
            response_record(response, self._invocation.call)
            if not isinstance(response, str) and span_of(response) is None:
                self._invocation.produced(response)
        except Exception as exc:
            report_internal_error("recording a manual response", exc)

    def set_usage(self, *, input_tokens: int | None = None, output_tokens: int | None = None) -> None:
        if self._invocation is None:
            return
        usage = self._invocation.call.usage
        if input_tokens is not None:
            usage.input_tokens = input_tokens
        if output_tokens is not None:
            usage.output_tokens = output_tokens

    def set_tag(self, key: str, value: Any) -> None:
        """A label on this span only, checked like every label (`llmtap.tag.<key>`)."""
        checked = _policy.current_policy().check({key: value})
        if self._invocation is None or not checked:
            return
        try:
            self._invocation.span.set_attributes(attributes_of(checked))
        except Exception as exc:
            report_internal_error("setting a manual tag", exc)


class LLMTracer:
    """Manual tracing of LLM calls no plugin covers. Uses the runtime `llmtap.instrument()` set up
    (or sets one up from the environment, like the `opentelemetry-instrument` launcher)."""

    def __init__(self, *, provider: str = DEFAULT_PROVIDER) -> None:
        self.provider = provider

    @contextmanager
    def trace_llm_call(
        self,
        *,
        model_name: str,
        prompt: str | None = None,
        messages: Sequence[Mapping[str, Any]] | None = None,
        provider: str | None = None,
        operation: str = "chat",
        tags: Mapping[str, Any] | None = None,
    ) -> Iterator[LLMSpan]:
        labels = _policy.current_policy().check(dict(tags)) if tags else {}
        label_tokens = push(labels) if labels else None
        try:
            invocation = self._begin(model_name, prompt, messages, provider or self.provider, operation)
            handle = LLMSpan(invocation, prompt if messages is None else messages)
            if invocation is None:
                yield handle
                return
            token = invocation.activate()
            try:
                yield handle
            except BaseException as exc:
                invocation.deactivate(token)
                invocation.end(exc)
                raise
            invocation.deactivate(token)
            invocation.end()
        finally:
            if label_tokens is not None:
                pop(label_tokens)

    @staticmethod
    def _begin(model_name: str, prompt: str | None, messages: Any, provider: str, operation: str) -> Invocation | None:
        try:
            state = runtime.ensure()
            if not state.settings.enabled:
                return None
            call = LLMCall(
                provider=provider,
                operation=operation,
                request_model=model_name,
                capture_content=state.settings.capture_content,
            )
            if call.capture_content:
                call.input_messages = input_messages(prompt, messages)
            return Invocation(state.emitter, call)
        except Exception as exc:
            report_internal_error("starting a manual span", exc)
            return None
