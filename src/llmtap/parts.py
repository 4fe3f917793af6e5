"""Builders for the GenAI semantic-convention message parts, shared by the provider plugins."""

from __future__ import annotations

import json
from typing import Any


def text(content: str) -> dict[str, Any]:
    return {"type": "text", "content": content}


def reasoning(content: str) -> dict[str, Any]:
    return {"type": "reasoning", "content": content}


def parse_arguments(arguments: Any) -> Any:
    """Tool-call arguments as an object when they are a JSON string, else as given."""
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
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
