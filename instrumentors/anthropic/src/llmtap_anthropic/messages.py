"""`/v1/messages` (and its beta form): request, response and stream events to the neutral record.

Token usage follows the GenAI semantic conventions: `gen_ai.usage.input_tokens` includes every input token,
so it is Anthropic's `input_tokens` (the uncached part of the prompt) plus `cache_read_input_tokens` plus
`cache_creation_input_tokens`; the two cache counts are also reported on their own
(`gen_ai.usage.cache_read.input_tokens`, `gen_ai.usage.cache_creation.input_tokens`). Thinking tokens
(`output_tokens_details.thinking_tokens`) are part of `gen_ai.usage.output_tokens` and reported as
`gen_ai.usage.reasoning.output_tokens`.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from llmtap import parts
from llmtap.parameters import new_call
from llmtap.record import LLMCall, Usage

OPERATION = "chat"

# Names shared with the spans the anthropic SDK emits itself, so dashboards built on those keep working.
SERVICE_TIER = "anthropic.request.service_tier"
RESPONSE_SERVICE_TIER = "anthropic.response.service_tier"
SPEED = "anthropic.request.speed"
THINKING_TYPE = "anthropic.thinking.type"
THINKING_BUDGET = "anthropic.thinking.budget_tokens"
EFFORT = "anthropic.request.output_config.effort"
STOP_REASON = "anthropic.message.stop_reason"
REQUEST_ID = "anthropic.request.id"

_SCALAR_PARAMETERS = {
    "max_tokens": gen_ai.GEN_AI_REQUEST_MAX_TOKENS,
    "temperature": gen_ai.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": gen_ai.GEN_AI_REQUEST_TOP_P,
    "top_k": gen_ai.GEN_AI_REQUEST_TOP_K,
    "service_tier": SERVICE_TIER,
    "speed": SPEED,
}


def finish_reason(stop_reason: str | None) -> str:
    """Anthropic `stop_reason` -> semantic-convention finish reason."""
    return parts.finish_reason(stop_reason) if stop_reason else ""


def _source_part(block: dict[str, Any], modality: str) -> dict[str, Any]:
    source = block.get("source") or {}
    kind = source.get("type")
    if kind == "base64":
        return {
            "type": "blob",
            "modality": modality,
            "mime_type": source.get("media_type"),
            "content": source.get("data"),
        }
    if kind == "url":
        return {"type": "uri", "modality": modality, "uri": source.get("url")}
    if kind == "file":
        return {"type": "file", "modality": modality, "file_id": source.get("file_id")}
    if kind == "text":
        return {
            "type": "blob",
            "modality": modality,
            "mime_type": source.get("media_type"),
            "content": source.get("data"),
        }
    return {"type": block.get("type") or "unknown", "modality": modality}


def _tool_result_response(content: Any) -> Any:
    if isinstance(content, str) or content is None:
        return content
    pieces = [_content_part(block) for block in content if isinstance(block, dict)]
    if all(piece.get("type") == "text" for piece in pieces):
        return "".join(piece["content"] for piece in pieces)
    return pieces


def _content_part(block: dict[str, Any]) -> dict[str, Any]:
    kind = block.get("type")
    if kind == "text":
        return parts.text(block.get("text", ""))
    if kind == "image":
        return _source_part(block, "image")
    if kind == "document":
        return _source_part(block, "document")
    if kind == "tool_use":
        return parts.tool_call(block.get("id"), block.get("name"), block.get("input"))
    if kind == "tool_result":
        return parts.tool_call_response(block.get("tool_use_id"), _tool_result_response(block.get("content")))
    if kind == "thinking":
        return parts.reasoning(block.get("thinking", ""))
    if kind == "redacted_thinking":
        return {"type": "reasoning", "content": "", "redacted": True}
    return {"type": kind or "unknown"}


def content_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [parts.text(content)]
    return [_content_part(block) for block in content or () if isinstance(block, dict)]


def input_messages(messages: Any) -> list[dict[str, Any]]:
    return [
        parts.message(item.get("role", "user"), content_parts(item.get("content")))
        for item in messages or ()
        if isinstance(item, dict)
    ]


def tool_definitions(tools: Any) -> list[dict[str, Any]] | None:
    if not tools:
        return None
    definitions = []
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        if tool.get("type") in (None, "custom"):
            definitions.append(parts.function_tool(tool.get("name"), tool.get("description"), tool.get("input_schema")))
        else:  # a server tool (web search, code execution, ...): its definition as sent
            definitions.append(dict(tool))
    return definitions


def _request_attributes(body: dict[str, Any], attributes: dict[str, Any]) -> None:
    thinking = body.get("thinking")
    if isinstance(thinking, dict):
        if thinking.get("type"):
            attributes[THINKING_TYPE] = thinking["type"]
        if thinking.get("budget_tokens") is not None:
            attributes[THINKING_BUDGET] = thinking["budget_tokens"]
    output_config = body.get("output_config")
    formats = [body.get("output_format")]
    if isinstance(output_config, dict):
        if output_config.get("effort"):
            attributes[EFFORT] = output_config["effort"]
        formats.append(output_config.get("format"))
    if any(isinstance(fmt, dict) and fmt.get("type") == "json_schema" for fmt in formats):
        attributes[gen_ai.GEN_AI_OUTPUT_TYPE] = "json"


def build_call(body: dict[str, Any], capture_content: bool) -> LLMCall:
    call = new_call("anthropic", OPERATION, body, capture_content, _SCALAR_PARAMETERS, stop_key="stop_sequences")
    _request_attributes(body, call.request_attributes)
    if capture_content:
        system = body.get("system")
        if system:
            call.system_instructions = content_parts(system)
        call.input_messages = input_messages(body.get("messages"))
        call.tool_definitions = tool_definitions(body.get("tools"))
    return call


def usage_of(usage: Any) -> Usage:
    """Anthropic usage -> the record's; `input_tokens` there counts cached tokens too (see the module doc)."""
    input_tokens = getattr(usage, "input_tokens", None)
    cache_read = getattr(usage, "cache_read_input_tokens", None)
    cache_creation = getattr(usage, "cache_creation_input_tokens", None)
    if input_tokens is not None:
        input_tokens += (cache_read or 0) + (cache_creation or 0)
    details = getattr(usage, "output_tokens_details", None)
    by_ttl = getattr(usage, "cache_creation", None)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=getattr(usage, "output_tokens", None),
        cache_read_input_tokens=cache_read,
        cache_creation_input_tokens=cache_creation,
        cache_creation_1h_input_tokens=getattr(by_ttl, "ephemeral_1h_input_tokens", None),
        reasoning_output_tokens=getattr(details, "thinking_tokens", None),
    )


def output_part(block: Any, arguments: str | None = None) -> dict[str, Any]:
    """One response content block (a model or, mid-stream, its start block) as a message part."""
    kind = getattr(block, "type", None)
    if kind == "text":
        return parts.text(block.text)
    if kind == "thinking":
        return parts.reasoning(block.thinking)
    if kind == "redacted_thinking":
        return {"type": "reasoning", "content": "", "redacted": True}
    if kind in ("tool_use", "server_tool_use"):
        call = parts.tool_call(block.id, block.name, arguments if arguments is not None else block.input)
        if kind == "server_tool_use":
            call["server"] = True
        return call
    return {"type": kind or "unknown", "id": getattr(block, "id", None) or getattr(block, "tool_use_id", None)}


def _finish(call: LLMCall, stop_reason: str | None) -> str:
    if stop_reason:
        call.attributes[STOP_REASON] = stop_reason
        call.finish_reasons = [finish_reason(stop_reason)]
    return finish_reason(stop_reason)


def _usage_metadata(call: LLMCall, usage: Any) -> None:
    if usage is None:
        return
    call.usage = usage_of(usage)
    tier = getattr(usage, "service_tier", None)
    if tier:
        call.attributes[RESPONSE_SERVICE_TIER] = tier


def record_response(call: LLMCall, response: Any) -> None:
    call.response_id = getattr(response, "id", None)
    call.response_model = getattr(response, "model", None)
    request_id = getattr(response, "_request_id", None)
    if isinstance(request_id, str) and request_id:
        call.attributes[REQUEST_ID] = request_id
    _usage_metadata(call, getattr(response, "usage", None))
    reason = _finish(call, getattr(response, "stop_reason", None))
    if call.capture_content:
        message_parts = [output_part(block) for block in getattr(response, "content", None) or ()]
        call.output_messages = [parts.message("assistant", message_parts, reason)]


def record_stream(call: LLMCall, stream: Any) -> None:
    """A stream's events carry no request id: it is the `request-id` header of the stream's HTTP response."""
    response = getattr(stream, "response", None)
    request_id = response.headers.get("request-id") if response is not None else None
    if isinstance(request_id, str) and request_id:
        call.attributes[REQUEST_ID] = request_id


def record_error(call: LLMCall, error: BaseException) -> None:
    """An error response's request id (the SDK's `APIStatusError.request_id`), for support tickets."""
    request_id = getattr(error, "request_id", None)
    if isinstance(request_id, str) and request_id:
        call.attributes[REQUEST_ID] = request_id


class _Block:
    __slots__ = ("pieces", "start")

    def __init__(self, start: Any) -> None:
        self.start = start
        self.pieces: list[str] = []


class MessagesStreamState:
    """Accumulates raw message stream events; streamed `input_json` deltas are joined into tool arguments."""

    __slots__ = ("blocks", "capture", "message", "stop_reason", "usage")

    def __init__(self, capture_content: bool) -> None:
        self.capture = capture_content
        self.message: Any = None  # the message of `message_start`
        self.usage: dict[str, Any] = {}
        self.stop_reason: str | None = None
        self.blocks: dict[int, _Block] = {}

    def _merge_usage(self, usage: Any) -> None:
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
            "cache_creation",
            "output_tokens_details",
            "service_tier",
        ):
            value = getattr(usage, name, None)
            if value is not None:
                self.usage[name] = value

    def record_chunk(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind == "message_start":
            self.message = event.message
            self._merge_usage(event.message.usage)
        elif kind == "message_delta":
            self._merge_usage(event.usage)
            if event.delta.stop_reason:
                self.stop_reason = event.delta.stop_reason
        elif not self.capture:
            return
        elif kind == "content_block_start":
            self.blocks[event.index] = _Block(event.content_block)
        elif kind == "content_block_delta":
            block = self.blocks.get(event.index)
            if block is None:
                return
            delta = event.delta
            if delta.type == "text_delta":
                block.pieces.append(delta.text)
            elif delta.type == "input_json_delta":
                block.pieces.append(delta.partial_json)
            elif delta.type == "thinking_delta":
                block.pieces.append(delta.thinking)

    def _part(self, block: _Block) -> dict[str, Any]:
        start, joined = block.start, "".join(block.pieces)
        kind = getattr(start, "type", None)
        if kind == "text":
            return parts.text(start.text + joined)
        if kind == "thinking":
            return parts.reasoning(start.thinking + joined)
        if kind in ("tool_use", "server_tool_use"):
            return output_part(start, joined if block.pieces else None)
        return output_part(start)

    def apply(self, call: LLMCall) -> None:
        if self.message is not None:
            call.response_id = self.message.id
            call.response_model = self.message.model
        if self.usage:
            _usage_metadata(call, _UsageView(self.usage))
        reason = _finish(call, self.stop_reason)
        if self.capture and (self.blocks or self.stop_reason):
            message_parts = [self._part(self.blocks[index]) for index in sorted(self.blocks)]
            call.output_messages = [parts.message("assistant", message_parts, reason)]


class _UsageView:
    """Attribute access over the usage fields merged from `message_start` and `message_delta`."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        return self._fields.get(name)
