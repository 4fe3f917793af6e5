"""Legacy `/completions` (text completion): request, response and stream chunks to the record."""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from llmtap import parts
from llmtap.record import LLMCall, Usage
from llmtap_openai.common import new_call, response_metadata

OPERATION = "text_completion"


def build_call(body: dict[str, Any], capture_content: bool) -> LLMCall:
    call = new_call(body, OPERATION, capture_content)
    attributes = call.request_attributes
    if body.get("max_tokens") is not None:
        attributes[gen_ai.GEN_AI_REQUEST_MAX_TOKENS] = body["max_tokens"]
    if body.get("n") not in (None, 1):
        attributes[gen_ai.GEN_AI_REQUEST_CHOICE_COUNT] = body["n"]
    if capture_content:
        prompt = body.get("prompt")
        prompts = [prompt] if isinstance(prompt, str) else [p for p in prompt or () if isinstance(p, str)]
        call.input_messages = [parts.message("user", [parts.text(p)]) for p in prompts]
    return call


def _usage(usage: Any) -> Usage:
    return Usage(input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens)


def record_response(call: LLMCall, response: Any) -> None:
    call.response_id = getattr(response, "id", None)
    call.response_model = getattr(response, "model", None)
    if getattr(response, "usage", None) is not None:
        call.usage = _usage(response.usage)
    response_metadata(response, call.attributes)
    choices = getattr(response, "choices", None) or ()
    call.finish_reasons = [choice.finish_reason or "" for choice in choices]
    if call.capture_content:
        call.output_messages = [
            parts.message("assistant", [parts.text(choice.text)], choice.finish_reason or "") for choice in choices
        ]


class CompletionStreamState:
    __slots__ = ("capture", "finish", "model", "response_id", "text", "usage")

    def __init__(self, capture_content: bool) -> None:
        self.capture = capture_content
        self.text: dict[int, list[str]] = {}
        self.finish: dict[int, str] = {}
        self.response_id: str | None = None
        self.model: str | None = None
        self.usage: Any = None

    def record_chunk(self, chunk: Any) -> None:
        if self.response_id is None:
            self.response_id, self.model = chunk.id, chunk.model
        if chunk.usage is not None:
            self.usage = chunk.usage
        for choice in chunk.choices:
            if self.capture and choice.text:
                self.text.setdefault(choice.index, []).append(choice.text)
            if choice.finish_reason:
                self.finish[choice.index] = choice.finish_reason

    def apply(self, call: LLMCall) -> None:
        call.response_id, call.response_model = self.response_id, self.model
        if self.usage is not None:
            call.usage = _usage(self.usage)
        indexes = sorted(set(self.text) | set(self.finish))
        if self.finish:
            call.finish_reasons = [self.finish.get(index, "") for index in indexes]
        if self.capture and self.text:
            call.output_messages = [
                parts.message("assistant", [parts.text("".join(self.text.get(index, [])))], self.finish.get(index, ""))
                for index in indexes
            ]
