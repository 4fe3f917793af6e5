"""GenAI semantic-convention messages (`gen_ai.input.messages`, `gen_ai.system_instructions`,
`gen_ai.output.messages`) turned back into OpenAI chat messages, tool calls and tool results included, and
`gen_ai.tool.definitions` into OpenAI chat `tools`."""

from __future__ import annotations

import json
from typing import Any

_ROLES = ("system", "developer", "user", "assistant", "tool")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def system_message(instructions: Any) -> dict[str, Any] | None:
    """`gen_ai.system_instructions` (a list of parts) as one system message."""
    if not isinstance(instructions, list):
        return None
    texts = [
        str(part.get("content", "")) for part in instructions if isinstance(part, dict) and part.get("type") == "text"
    ]
    return {"role": "system", "content": "\n".join(texts)} if texts else None


def openai_messages(message: dict[str, Any]) -> list[dict[str, Any]]:
    """One semconv message as OpenAI chat messages: tool results become `tool` messages of their own."""
    role = message.get("role") or "assistant"
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for part in message.get("parts") or ():
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind == "text":
            texts.append(str(part.get("content", "")))
        elif kind == "tool_call":
            calls.append(
                {
                    "id": part.get("id"),
                    "type": "function",
                    "function": {"name": part.get("name"), "arguments": _text(part.get("arguments", {}))},
                }
            )
        elif kind == "tool_call_response":
            results.append({"role": "tool", "tool_call_id": part.get("id"), "content": _text(part.get("response"))})
    if role == "tool":
        return results
    out: list[dict[str, Any]] = []
    if texts or calls:
        built: dict[str, Any] = {"role": role if role in _ROLES else "user", "content": "\n".join(texts) or None}
        if calls and built["role"] == "assistant":
            built["tool_calls"] = calls
        if built["content"] is None and "tool_calls" not in built:
            built["content"] = ""
        out.append(built)
    return out + results


def conversation(system_instructions: Any, input_messages: Any) -> list[dict[str, Any]]:
    """The prompt of a model call as OpenAI chat messages."""
    out: list[dict[str, Any]] = []
    system = system_message(system_instructions)
    if system is not None:
        out.append(system)
    for message in input_messages if isinstance(input_messages, list) else ():
        if isinstance(message, dict):
            out.extend(openai_messages(message))
    return out


def final_message(output_messages: Any) -> dict[str, Any] | None:
    """The model's answer (its first output message / choice) as an OpenAI assistant message."""
    for message in output_messages if isinstance(output_messages, list) else ():
        if isinstance(message, dict):
            built = openai_messages({**message, "role": "assistant"})
            if built:
                return built[0]
    return None


def openai_tools(definitions: Any) -> list[dict[str, Any]]:
    """`gen_ai.tool.definitions` (`{"type": "function", "name", "description"?, "parameters"?}`) as OpenAI chat
    `tools` (`{"type": "function", "function": {...}}`); a provider's server tools (web search, ...) have no
    function form and are left out."""
    tools = []
    for definition in definitions if isinstance(definitions, list) else ():
        if isinstance(definition, dict) and definition.get("type") == "function" and definition.get("name"):
            function = {key: definition[key] for key in ("name", "description", "parameters") if key in definition}
            tools.append({"type": "function", "function": function})
    return tools
