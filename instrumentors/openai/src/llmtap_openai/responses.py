"""`/responses` (the Responses API): request, response and stream events to the neutral record."""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from llmtap import parts
from llmtap.record import LLMCall, Usage
from llmtap_openai.common import new_call, output_type, response_metadata, tool_definitions

OPERATION = "chat"


def _input_content(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [parts.text(content)]
    result = []
    for part in content or ():
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in ("input_text", "output_text"):
            result.append(parts.text(part.get("text", "")))
        elif kind == "refusal":
            result.append({"type": "refusal", "content": part.get("refusal", "")})
        elif kind == "input_image":
            if part.get("image_url"):
                result.append(parts.media(part["image_url"], "image"))
            else:
                result.append({"type": "file", "modality": "image", "file_id": part.get("file_id")})
        elif kind == "input_file":
            result.append({"type": "file", "file_id": part.get("file_id"), "filename": part.get("filename")})
        else:
            result.append({"type": kind or "unknown"})
    return result


def input_messages(items: Any) -> list[dict[str, Any]]:
    if isinstance(items, str):
        return [parts.message("user", [parts.text(items)])]
    result = []
    for item in items or ():
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role", "user")
            result.append(parts.message("system" if role == "developer" else role, _input_content(item.get("content"))))
        elif kind == "function_call":
            call = parts.tool_call(item.get("call_id"), item.get("name"), item.get("arguments"))
            result.append(parts.message("assistant", [call]))
        elif kind == "function_call_output":
            result.append(parts.message("tool", [parts.tool_call_response(item.get("call_id"), item.get("output"))]))
        elif kind == "reasoning":
            summary = "".join(piece.get("text", "") for piece in item.get("summary") or () if isinstance(piece, dict))
            result.append(parts.message("assistant", [parts.reasoning(summary)]))
        else:
            result.append(parts.message("assistant", [{"type": kind}]))
    return result


def build_call(body: dict[str, Any], capture_content: bool) -> LLMCall:
    call = new_call(body, OPERATION, capture_content, "responses")
    attributes = call.request_attributes
    if body.get("max_output_tokens") is not None:
        attributes[gen_ai.GEN_AI_REQUEST_MAX_TOKENS] = body["max_output_tokens"]
    text_config = body.get("text")
    if isinstance(text_config, dict) and isinstance(text_config.get("format"), dict):
        output_type(text_config["format"].get("type"), attributes)
    conversation = body.get("conversation")
    if isinstance(conversation, dict):
        conversation = conversation.get("id")
    if isinstance(conversation, str):
        attributes[gen_ai.GEN_AI_CONVERSATION_ID] = conversation
    if capture_content:
        call.input_messages = input_messages(body.get("input"))
        instructions = body.get("instructions")
        if isinstance(instructions, str) and instructions:
            call.system_instructions = [parts.text(instructions)]
        call.tool_definitions = tool_definitions(body.get("tools"))
    return call


def _output_parts(items: Any) -> list[dict[str, Any]]:
    result = []
    for item in items or ():
        kind = getattr(item, "type", None)
        if kind == "message":
            for content in item.content or ():
                if content.type == "output_text":
                    result.append(parts.text(content.text))
                elif content.type == "refusal":
                    result.append({"type": "refusal", "content": content.refusal})
        elif kind == "function_call":
            result.append(parts.tool_call(item.call_id, item.name, item.arguments))
        elif kind == "reasoning":
            summary = "".join(piece.text for piece in item.summary or ())
            if summary:
                result.append(parts.reasoning(summary))
        elif kind:
            result.append({"type": kind, "id": getattr(item, "id", None)})
    return result


def finish_reason(response: Any) -> str | None:
    status = getattr(response, "status", None)
    if status == "completed":
        has_calls = any(getattr(item, "type", None) == "function_call" for item in response.output or ())
        return "tool_call" if has_calls else "stop"
    if status == "incomplete":
        details = getattr(response, "incomplete_details", None)
        return getattr(details, "reason", None) or "incomplete"
    if status in ("failed", "cancelled"):
        return "error" if status == "failed" else status
    return None


def record_response(call: LLMCall, response: Any) -> None:
    call.response_id = getattr(response, "id", None)
    call.response_model = getattr(response, "model", None)
    usage = getattr(response, "usage", None)
    if usage is not None:
        input_details = getattr(usage, "input_tokens_details", None)
        output_details = getattr(usage, "output_tokens_details", None)
        call.usage = Usage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_input_tokens=getattr(input_details, "cached_tokens", None),
            cache_creation_input_tokens=getattr(input_details, "cache_write_tokens", None),
            reasoning_output_tokens=getattr(output_details, "reasoning_tokens", None),
        )
    response_metadata(response, call.attributes)
    reason = finish_reason(response)
    if reason:
        call.finish_reasons = [reason]
    if getattr(response, "status", None) == "failed":
        error = getattr(response, "error", None)
        call.failure = (getattr(error, "code", None) or "failed", getattr(error, "message", None) or "response failed")
    if call.capture_content:
        output_reason = parts.finish_reason(reason) if reason else ""
        call.output_messages = [parts.message("assistant", _output_parts(response.output), output_reason)]


_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


class ResponsesStreamState:
    """Accumulates Responses API stream events; the final `response.*` event carries the whole result."""

    __slots__ = ("capture", "done_items", "error", "final", "snapshot", "text")

    def __init__(self, capture_content: bool) -> None:
        self.capture = capture_content
        self.snapshot: Any = None  # the latest response object seen (created / in_progress / final)
        self.final: Any = None
        self.error: tuple[str, str] | None = None  # an `error` event: the stream failed in-band
        self.done_items: dict[int, Any] = {}
        self.text: dict[int, list[str]] = {}  # output_index -> text deltas not yet in a done item

    def record_chunk(self, event: Any) -> None:
        kind = event.type
        if kind == "response.output_text.delta":
            if self.capture:
                self.text.setdefault(event.output_index, []).append(event.delta)
        elif kind == "response.output_item.done":
            self.done_items[event.output_index] = event.item
            self.text.pop(event.output_index, None)
        elif kind in _FINAL_EVENTS:
            self.final = self.snapshot = event.response
        elif kind in ("response.created", "response.in_progress"):
            self.snapshot = event.response
        elif kind == "error":
            self.error = (event.code or "error", event.message)

    def apply(self, call: LLMCall) -> None:
        if self.error is not None:
            call.failure = self.error
        if self.final is not None:
            record_response(call, self.final)
            return
        if self.snapshot is not None:
            call.response_id = self.snapshot.id
            call.response_model = self.snapshot.model
        if self.capture and (self.done_items or self.text):
            message_parts = _output_parts(self.done_items[index] for index in sorted(self.done_items))
            for index in sorted(self.text):
                message_parts.append(parts.text("".join(self.text[index])))
            call.output_messages = [parts.message("assistant", message_parts, "")]
