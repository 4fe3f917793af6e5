"""Builders for the GenAI semantic-convention message parts, shared by the provider plugins."""

from __future__ import annotations

import json
import re
from typing import Any

from llmtap.content import MAX_DEPTH


def text(content: str) -> dict[str, Any]:
    return {"type": "text", "content": content}


def reasoning(content: str) -> dict[str, Any]:
    return {"type": "reasoning", "content": content}


_JSON_TOKENS = re.compile(r'[\[\]{}]|"(?:[^"\\]|\\.)*"')


def _nested_deeper_than(text: str, limit: int) -> bool:
    """Whether the JSON text nests deeper than `limit` (an iterative scan; strings skipped)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        char = token.group()[0]
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_arguments(arguments: Any) -> Any:
    """Tool-call arguments as an object when they are a JSON string, else as given. Arguments nested
    deeper than content is ever written (`llmtap.content.MAX_DEPTH`) stay a string: the JSON parser
    recurses."""
    if isinstance(arguments, str):
        if _nested_deeper_than(arguments, MAX_DEPTH):
            return arguments
        try:
            return json.loads(arguments)
        except (ValueError, RecursionError):
            return arguments
    return arguments


def tool_call(call_id: str | None, name: str | None, arguments: Any) -> dict[str, Any]:
    return {"type": "tool_call", "id": call_id, "name": name, "arguments": parse_arguments(arguments)}


def tool_call_response(call_id: str | None, response: Any) -> dict[str, Any]:
    return {"type": "tool_call_response", "id": call_id, "response": response}


def media(url: str, modality: str) -> dict[str, Any]:
    """An image/audio/file reference: inline `data:` URLs become blobs, anything else a URI."""
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        mime_type = header[5:].split(";", 1)[0] or None
        return {"type": "blob", "modality": modality, "mime_type": mime_type, "content": data}
    return {"type": "uri", "modality": modality, "uri": url}


# Raw finish / stop reasons of the common APIs (OpenAI, Anthropic, Google, Mistral, Cohere, Bedrock),
# lower-cased, -> the semantic-convention finish reason.
_FINISH_REASONS = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "complete": "stop",
    "length": "length",
    "max_tokens": "length",
    "max_output_tokens": "length",
    "model_length": "length",
    "model_context_window_exceeded": "length",
    "content_filter": "content_filter",
    "refusal": "content_filter",
    "guardrail_intervened": "content_filter",
    "safety": "content_filter",
    "recitation": "content_filter",
    "blocklist": "content_filter",
    "prohibited_content": "content_filter",
    "spii": "content_filter",
    "image_safety": "content_filter",
    "tool_calls": "tool_call",
    "function_call": "tool_call",
    "tool_use": "tool_call",
    "tool_call": "tool_call",
    "error": "error",
    "malformed_function_call": "error",
    "unexpected_tool_call": "error",
}


def finish_reason(raw: str) -> str:
    """A provider's raw finish reason as the semconv one (stop, length, content_filter, tool_call, error);
    an unknown value is kept as it is."""
    return _FINISH_REASONS.get(raw.lower(), raw)


def message(role: str, parts: list[dict[str, Any]], finish_reason: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"role": role, "parts": parts}
    if finish_reason is not None:
        result["finish_reason"] = finish_reason
    return result


def function_tool(name: str | None, description: str | None, parameters: Any) -> dict[str, Any]:
    tool: dict[str, Any] = {"type": "function", "name": name}
    if description:
        tool["description"] = description
    if parameters is not None:
        tool["parameters"] = parameters
    return tool
