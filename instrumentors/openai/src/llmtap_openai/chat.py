"""`/chat/completions`: request, response and stream chunks to the neutral record."""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from llmtap import parts
from llmtap.record import LLMCall, Usage
from llmtap_openai.common import new_call, output_type, response_metadata, tool_definitions

OPERATION = "chat"

# Output messages use the semantic conventions' finish reasons; gen_ai.response.finish_reasons keeps the API's.
_FINISH_REASONS = {"tool_calls": "tool_call", "function_call": "tool_call"}


def _finish_reason(reason: str | None) -> str:
    return _FINISH_REASONS.get(reason, reason) if reason else ""


def _content_parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [parts.text(content)]
    result = []
    for part in content:
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            result.append(parts.text(part.get("text", "")))
        elif kind == "refusal":
            result.append({"type": "refusal", "content": part.get("refusal", "")})
        elif kind == "image_url":
            url = (part.get("image_url") or {}).get("url", "")
            result.append(parts.media(url, "image"))
        elif kind == "input_audio":
            audio = part.get("input_audio") or {}
            result.append(
                {
                    "type": "blob",
                    "modality": "audio",
                    "mime_type": f"audio/{audio.get('format')}",
                    "content": audio.get("data", ""),
                }
            )
        else:
            result.append({"type": kind or "unknown"})
    return result


def input_messages(messages: Any) -> list[dict[str, Any]]:
    result = []
    for item in messages or ():
        if not isinstance(item, dict):
            continue
        role = item.get("role", "user")
        message_parts = _content_parts(item.get("content"))
        if role == "tool":
            message_parts = [parts.tool_call_response(item.get("tool_call_id"), item.get("content"))]
        for call in item.get("tool_calls") or ():
            function = call.get("function") or {}
            message_parts.append(parts.tool_call(call.get("id"), function.get("name"), function.get("arguments")))
        result.append(parts.message("system" if role == "developer" else role, message_parts))
    return result


def build_call(body: dict[str, Any], capture_content: bool) -> LLMCall:
    call = new_call(body, OPERATION, capture_content, "chat_completions")
    attributes = call.request_attributes
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None:
        attributes[gen_ai.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
    n = body.get("n")
    if n is not None and n != 1:
        attributes[gen_ai.GEN_AI_REQUEST_CHOICE_COUNT] = n
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        output_type(response_format.get("type"), attributes)
    if capture_content:
        call.input_messages = input_messages(body.get("messages"))
        call.tool_definitions = tool_definitions(body.get("tools"))
    return call


def _usage(usage: Any) -> Usage:
    details = getattr(usage, "prompt_tokens_details", None)
    completion_details = getattr(usage, "completion_tokens_details", None)
    return Usage(
        input_tokens=getattr(usage, "prompt_tokens", None),
        output_tokens=getattr(usage, "completion_tokens", None),
        cache_read_input_tokens=getattr(details, "cached_tokens", None),
        cache_creation_input_tokens=getattr(details, "cache_write_tokens", None),
        reasoning_output_tokens=getattr(completion_details, "reasoning_tokens", None),
    )


def _tool_call_part(call: Any) -> dict[str, Any]:
    function = getattr(call, "function", None)
    if function is not None:
        return parts.tool_call(call.id, function.name, function.arguments)
    custom = getattr(call, "custom", None)
    return parts.tool_call(call.id, getattr(custom, "name", None), getattr(custom, "input", None))


def record_response(call: LLMCall, response: Any) -> None:
    call.response_id = getattr(response, "id", None)
    call.response_model = getattr(response, "model", None)
    usage = getattr(response, "usage", None)
    if usage is not None:
        call.usage = _usage(usage)
    response_metadata(response, call.attributes)
    choices = getattr(response, "choices", None) or ()
    call.finish_reasons = [choice.finish_reason or "" for choice in choices]
    if call.capture_content:
        messages = []
        for choice in choices:
            message = choice.message
            message_parts = []
            if message.content:
                message_parts.append(parts.text(message.content))
            if getattr(message, "refusal", None):
                message_parts.append({"type": "refusal", "content": message.refusal})
            for tool_call in message.tool_calls or ():
                message_parts.append(_tool_call_part(tool_call))
            messages.append(
                parts.message(message.role or "assistant", message_parts, _finish_reason(choice.finish_reason))
            )
        call.output_messages = messages


class _Choice:
    __slots__ = ("finish_reason", "refusal", "role", "text", "tool_calls")

    def __init__(self) -> None:
        self.role = "assistant"
        self.text: list[str] = []
        self.refusal: list[str] = []
        self.tool_calls: dict[int, list[Any]] = {}  # index -> [id, name, argument pieces]
        self.finish_reason: str | None = None


class ChatStreamState:
    """Accumulates `ChatCompletionChunk`s; streamed tool-call deltas are reassembled by index."""

    __slots__ = ("capture", "choices", "model", "response", "response_id", "usage")

    def __init__(self, capture_content: bool) -> None:
        self.capture = capture_content
        self.choices: dict[int, _Choice] = {}
        self.response_id: str | None = None
        self.model: str | None = None
        self.usage: Any = None
        self.response: Any = None

    def record_chunk(self, chunk: Any) -> None:
        if self.response_id is None:
            self.response_id = chunk.id
            self.model = chunk.model
            self.response = chunk
        if chunk.usage is not None:
            self.usage = chunk.usage
        for choice in chunk.choices:
            index = choice.index or 0  # a malformed chunk may omit it
            state = self.choices.get(index)
            if state is None:
                state = self.choices[index] = _Choice()
            if choice.finish_reason:
                state.finish_reason = choice.finish_reason
            if not self.capture:
                continue
            delta = choice.delta
            if delta is None:
                continue
            if delta.content:
                state.text.append(delta.content)
            if delta.refusal:
                state.refusal.append(delta.refusal)
            if delta.tool_calls:
                for piece in delta.tool_calls:
                    entry = state.tool_calls.get(piece.index)
                    if entry is None:
                        entry = state.tool_calls[piece.index] = [piece.id, None, []]
                    elif piece.id:
                        entry[0] = piece.id
                    function = piece.function
                    if function is not None:
                        if function.name:
                            entry[1] = function.name
                        if function.arguments:
                            entry[2].append(function.arguments)

    def apply(self, call: LLMCall) -> None:
        call.response_id = self.response_id
        call.response_model = self.model
        if self.usage is not None:
            call.usage = _usage(self.usage)
        if self.response is not None:
            response_metadata(self.response, call.attributes)
        ordered = [self.choices[index] for index in sorted(self.choices)]
        if any(choice.finish_reason for choice in ordered):
            call.finish_reasons = [choice.finish_reason or "" for choice in ordered]
        if self.capture and ordered:
            messages = []
            for choice in ordered:
                message_parts = []
                if choice.text:
                    message_parts.append(parts.text("".join(choice.text)))
                if choice.refusal:
                    message_parts.append({"type": "refusal", "content": "".join(choice.refusal)})
                for index in sorted(choice.tool_calls):
                    call_id, name, pieces = choice.tool_calls[index]
                    message_parts.append(parts.tool_call(call_id, name, "".join(pieces)))
                if message_parts or choice.finish_reason:
                    messages.append(parts.message(choice.role, message_parts, _finish_reason(choice.finish_reason)))
            call.output_messages = messages or None


def is_usage_only_chunk(chunk: Any) -> bool:
    return not chunk.choices and chunk.usage is not None
