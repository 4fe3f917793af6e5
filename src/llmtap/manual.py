"""`llmtap.LLMTracer`: the manual API for LLM calls no plugin covers (a self-hosted model, custom HTTP).

    tracer = llmtap.LLMTracer()
    with tracer.trace_llm_call(model_name="my-model", prompt="...", tags={"user_id": "u1"}) as span:
        text = my_http_call(span.prompt)
        span.set_response(text)
        span.set_usage(input_tokens=12, output_tokens=30)

The span has the same GenAI shape as the plugins' spans (it goes through the core's `LLMCall` record,
`Invocation` and emitter), is current inside the block (so auto-instrumented calls nest under it),
and ends with status ERROR if the block raises (cancellation is no error). `tags` apply to every span
started inside the block.

One API call, one model span (`llmtap.layers`): when an instrumented SDK call runs inside the block,
the SDK's span is that call's model span (usage, response id, metrics) and this span ends as its
parent `invoke_workflow {model_name}`, keeping its ref, tags and captured content, without usage.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from llmtap import layers, parts, runtime
from llmtap.errors import UsageError
from llmtap.invocation import Invocation
from llmtap.labels import policy as _policy
from llmtap.labels.context import pop, push
from llmtap.labels.policy import stamp_label
from llmtap.record import LLMCall, Usage
from llmtap.refs import SpanRef, span_of
from llmtap.responses import Converter, converter_for
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
            if isinstance(value, int) and not isinstance(value, bool):
                setattr(into, target, value)
                break


def _text_response(call: LLMCall, text: str) -> None:
    if call.capture_content:
        call.output_messages = [parts.message("assistant", [parts.text(text)], "stop")]
    call.finish_reasons = ["stop"]


def response_record(response: Any, call: LLMCall) -> Converter | None:
    """Fill the output side of `call` from `response`; returns the converter used, if any.

    A text is the answer. An SDK response object goes through the converter its plugin registered
    (`llmtap.responses`), so the span is the plugin's. Anything else: its `id`, `model` and `usage`
    (`input_tokens` / `prompt_tokens`, `output_tokens` / `completion_tokens`) when it has them, and its
    `str()` as the answer.
    """
    if isinstance(response, str):
        _text_response(call, response)
        return None
    converter = converter_for(response)
    if converter is not None:
        converter.record(call, response)
        return converter
    response_id = getattr(response, "id", None)
    call.response_id = response_id if isinstance(response_id, str) else None
    model = getattr(response, "model", None)
    call.response_model = model if isinstance(model, str) else None
    _usage_from(getattr(response, "usage", None), call.usage)
    _text_response(call, str(response))
    return None


class LLMSpan:
    """The handle `trace_llm_call` yields. Its methods never raise into the application, except
    `set_tag` in strict label mode (`llmtap.LabelError`, the documented contract)."""

    __slots__ = ("_invocation", "_provider_given", "prompt")

    def __init__(self, invocation: Invocation | None, prompt: Any, provider_given: bool = True) -> None:
        self._invocation = invocation
        self._provider_given = provider_given  # if not, the response's converter names the provider
        self.prompt = prompt

    @property
    def span(self) -> trace.Span:
        return trace.INVALID_SPAN if self._invocation is None else self._invocation.span

    @property
    def ref(self) -> SpanRef | None:
        """`SpanRef(trace_id, span_id)` of this call, for linking feedback to it later."""
        return SpanRef.from_context(self.span.get_span_context())

    def set_response(self, response: Any) -> None:
        """The model's answer: a text, or the SDK response object (recorded as the SDK's plugin records it)."""
        if self._invocation is None:
            return
        try:
            call = self._invocation.call
            converter = response_record(response, call)
            if converter is not None and not self._provider_given and call.provider != converter.provider:
                call.provider = converter.provider
                self._invocation.span.set_attribute(gen_ai.GEN_AI_PROVIDER_NAME, converter.provider)
            if not isinstance(response, str) and span_of(response) is None:
                self._invocation.produced(response)
        except Exception as exc:
            report_internal_error("recording a manual response", exc)

    def set_usage(self, *, input_tokens: int | None = None, output_tokens: int | None = None) -> None:
        checked = {"input_tokens": _token_count("input_tokens", input_tokens)}
        checked["output_tokens"] = _token_count("output_tokens", output_tokens)
        if self._invocation is None:
            return
        usage = self._invocation.call.usage
        if checked["input_tokens"] is not None:
            usage.input_tokens = checked["input_tokens"]
        if checked["output_tokens"] is not None:
            usage.output_tokens = checked["output_tokens"]

    def set_tag(self, key: str, value: Any) -> None:
        """A label on this span only, checked like every label (`llmtap.tag.<key>`).

        When `key` names a declared annotation (`[tool.llmtap.annotations.<key>]`, e.g. `human_feedback`),
        the value is also recorded as that annotation on this span, checked against its schema
        (`llmtap.AnnotationError` if it does not fit, before anything is set).
        """
        if self._invocation is not None and _declares_annotation(key):
            self.annotate(key, value)
        checked = _policy.current_policy().check({key: value})
        if self._invocation is None or not checked:
            return
        try:
            stamp_label(self._invocation.span, checked)
        except Exception as exc:
            report_internal_error("setting a manual tag", exc)

    def annotate(
        self,
        name: str,
        value: Any,
        *,
        explanation: str | None = None,
        annotator: str | None = None,
        annotator_kind: str = "human",
        metadata: Mapping[str, Any] | None = None,
    ) -> Any:
        """`llmtap.annotate(this span, name, value, ...)`: the `Annotation`, or None when llmtap is off."""
        if self._invocation is None:
            return None
        from llmtap.annotations import annotate

        return annotate(
            self._invocation.span,
            name,
            value,
            explanation=explanation,
            annotator=annotator,
            annotator_kind=annotator_kind,
            metadata=metadata,
        )


def _declares_annotation(key: str) -> bool:
    """Whether the settings in force declare an annotation `key` (without loading the annotations package)."""
    state = runtime.current()
    declared = state.settings.tables.get("annotations") if state is not None else None
    return bool(declared) and key in declared


def _token_count(name: str, value: Any) -> int | None:
    """A token count given in code: a whole number >= 0 (an integral float or digit string is converted)."""
    if value is None:
        return None
    count = value
    if isinstance(value, str) and value.strip().isdigit():
        count = int(value.strip())
    elif isinstance(value, float) and value.is_integer():
        count = int(value)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise UsageError(f"set_usage({name}={value!r}): expected a whole number of tokens >= 0")
    return count


def _check_name(where: str, name: str, value: Any, *, optional: bool = False) -> None:
    if (value is None and optional) or (isinstance(value, str) and value):
        return
    expected = "a non-empty string or None" if optional else "a non-empty string"
    raise UsageError(f"{where}({name}={value!r}): expected {expected}")


def _check_call(model_name: Any, prompt: Any, messages: Any, provider: Any, operation: Any, tags: Any) -> None:
    """The arguments of `trace_llm_call`: a bad one raises `UsageError` at the call, naming it."""
    where = "trace_llm_call"
    _check_name(where, "model_name", model_name)
    _check_name(where, "provider", provider, optional=True)
    _check_name(where, "operation", operation)
    if prompt is not None and not isinstance(prompt, str):
        raise UsageError(f"{where}(prompt={prompt!r}): expected a string or None")
    if messages is not None and (
        isinstance(messages, str | bytes | Mapping)
        or not isinstance(messages, Sequence)
        or not all(isinstance(item, Mapping) for item in messages)
    ):
        raise UsageError(f'{where}(messages={messages!r}): expected a list of {{"role": ..., "content": ...}} dicts')
    if tags is not None and not isinstance(tags, Mapping):
        raise UsageError(f"{where}(tags={tags!r}): expected a mapping of label names to values")


class LLMTracer:
    """Manual tracing of LLM calls no plugin covers. Uses the runtime `llmtap.instrument()` set up
    (or sets one up from the environment, like the `opentelemetry-instrument` launcher)."""

    def __init__(self, *, provider: str | None = None) -> None:
        _check_name("LLMTracer", "provider", provider, optional=True)
        self.provider = provider  # None: the SDK response's provider (`set_response`), else "custom"

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
        _check_call(model_name, prompt, messages, provider, operation, tags)
        labels = _policy.current_policy().check(dict(tags)) if tags else {}
        label_tokens = push(labels) if labels else None
        try:
            given = provider or self.provider
            invocation = self._begin(model_name, prompt, messages, given or DEFAULT_PROVIDER, operation)
            handle = LLMSpan(invocation, prompt if messages is None else messages, given is not None)
            if invocation is None:
                yield handle
                return
            token = invocation.activate()
            # A model-call layer (`llmtap.layers`): an instrumented SDK call made inside the block is that API
            # call's model span, and this span then ends as its `invoke_workflow` parent, without usage.
            layer_token = layers.enter(invocation.layer)
            try:
                yield handle
            except BaseException as exc:
                layers.leave(layer_token)
                invocation.deactivate(token)
                invocation.end(exc)
                raise
            layers.leave(layer_token)
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
            return Invocation(state.emitter, call, layer=layers.ModelLayer())
        except Exception as exc:
            report_internal_error("starting a manual span", exc)
            return None
