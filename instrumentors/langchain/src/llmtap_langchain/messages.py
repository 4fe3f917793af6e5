"""LangChain messages, generations and usage to the neutral record's semconv shapes."""

from __future__ import annotations

import re
from typing import Any

from llmtap import parts
from llmtap.record import Usage

# langchain-anthropic's cache-write buckets by TTL in `input_token_details`.
_TTL_BUCKET = re.compile(r"ephemeral_\w+_input_tokens")

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "tool"}
# Streamed messages are chunks, whose `type` is the class name.
_ROLES.update({"HumanMessageChunk": "user", "AIMessageChunk": "assistant", "SystemMessageChunk": "system"})
_ROLES.update({"ToolMessageChunk": "tool", "FunctionMessageChunk": "tool"})


def _content_parts(content: Any) -> list[dict[str, Any]]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [parts.text(content)]
    result: list[dict[str, Any]] = []
    for block in content if isinstance(content, list) else [content]:
        if isinstance(block, str):
            result.append(parts.text(block))
        elif isinstance(block, dict):
            kind = block.get("type")
            if kind == "text":
                result.append(parts.text(block.get("text", "")))
            elif kind in ("reasoning", "thinking"):
                result.append(parts.reasoning(block.get("reasoning") or block.get("thinking") or ""))
            elif kind == "image_url":
                image = block.get("image_url")
                url = image.get("url", "") if isinstance(image, dict) else str(image or "")
                result.append(parts.media(url, "image"))
            elif kind in ("image", "audio", "file") and isinstance(block.get("url"), str):
                result.append(parts.media(block["url"], kind))
            elif kind != "tool_use":  # Anthropic tool_use blocks repeat `tool_calls`
                result.append({"type": kind or "unknown"})
    return result


def message(msg: Any, finish_reason: str | None = None) -> dict[str, Any]:
    """One LangChain `BaseMessage` as a semconv message."""
    kind = getattr(msg, "type", "human")
    role = _ROLES.get(kind, getattr(msg, "role", None) or kind)
    if kind in ("tool", "function", "ToolMessageChunk", "FunctionMessageChunk"):
        message_parts = [parts.tool_call_response(getattr(msg, "tool_call_id", None), msg.content)]
    else:
        message_parts = _content_parts(msg.content)
    for call in getattr(msg, "tool_calls", None) or ():
        message_parts.append(parts.tool_call(call.get("id"), call.get("name"), call.get("args")))
    return parts.message(role, message_parts, finish_reason)


def input_messages(messages: Any) -> list[dict[str, Any]]:
    return [message(msg) for msg in messages or ()]


def prompts(texts: Any) -> list[dict[str, Any]]:
    return [parts.message("user", [parts.text(text)]) for text in texts or ()]


def finish_reason(generation: Any) -> str | None:
    """The provider's raw finish reason (`finish_reason`, Anthropic's `stop_reason`), as LangChain reports it."""
    info = getattr(generation, "generation_info", None) or {}
    reason = info.get("finish_reason") or info.get("stop_reason")
    msg = getattr(generation, "message", None)
    if reason is None and msg is not None:
        metadata = getattr(msg, "response_metadata", None) or {}
        reason = metadata.get("finish_reason") or metadata.get("stop_reason")
    return str(reason) if reason is not None else None


def output_message(generation: Any, default_reason: str = "stop") -> dict[str, Any]:
    """The generation as a semconv output message, with the semconv finish reason (`default_reason` when none)."""
    reason = parts.finish_reason(finish_reason(generation) or default_reason)
    msg = getattr(generation, "message", None)
    if msg is not None:
        return message(msg, reason)
    return parts.message("assistant", [parts.text(generation.text)], reason)


def usage(usage_metadata: Any) -> Usage | None:
    """`UsageMetadata` (input/output tokens, cache and reasoning details) as the neutral usage."""
    if not isinstance(usage_metadata, dict):
        return None
    input_details = usage_metadata.get("input_token_details") or {}
    output_details = usage_metadata.get("output_token_details") or {}
    return Usage(
        input_tokens=usage_metadata.get("input_tokens"),
        output_tokens=usage_metadata.get("output_tokens"),
        cache_read_input_tokens=input_details.get("cache_read"),
        cache_creation_input_tokens=_cache_creation(input_details),
        reasoning_output_tokens=output_details.get("reasoning"),
    )


def _cache_creation(input_details: dict[str, Any]) -> int | None:
    """Cache writes. langchain-anthropic reports them by TTL (`ephemeral_5m_input_tokens`,
    `ephemeral_1h_input_tokens`) and, when those are non-zero, sets `cache_creation` to 0 so they are
    not counted twice: the total is `cache_creation` plus the TTL buckets."""
    values = [input_details.get("cache_creation")]
    values += [value for key, value in input_details.items() if _TTL_BUCKET.fullmatch(key)]
    counts = [value for value in values if isinstance(value, int) and not isinstance(value, bool)]
    return sum(counts) if counts else None


def add_usage(total: Usage, more: Usage) -> None:
    for name in Usage.__slots__:
        value = getattr(more, name)
        if value is not None:
            setattr(total, name, (getattr(total, name) or 0) + value)


def _is_message(value: Any) -> bool:
    return hasattr(value, "content") and isinstance(getattr(value, "type", None), str)


def _message_list(value: Any) -> list[Any] | None:
    """`value` when it is a non-empty list of LangChain messages, else None."""
    if isinstance(value, list | tuple) and value and all(_is_message(item) for item in value):
        return list(value)
    return None


def _is_message_like(item: Any) -> bool:
    """What LangGraph accepts in place of a message: `("user", "text")`, `{"role": ..., "content": ...}`, text."""
    if isinstance(item, tuple):
        return len(item) == 2 and isinstance(item[0], str)
    if isinstance(item, dict):
        return "role" in item and "content" in item
    return isinstance(item, str) or _is_message(item)


def _coerced(value: Any) -> Any:
    """A state's `messages` entry given in LangGraph's shorthands (tuples, role/content dicts, text) as
    LangChain messages, as the graph itself reads them; anything else as it is."""
    if not isinstance(value, list | tuple) or not value or not all(_is_message_like(item) for item in value):
        return value
    if all(_is_message(item) for item in value):
        return value
    try:
        from langchain_core.messages import convert_to_messages

        return convert_to_messages(value)
    except Exception:  # not messages after all: recorded as the value it is
        return value


def run_value(value: Any, top: bool = True) -> Any:
    """A chain's or agent's input or output for recording: its LangChain messages (at the top, in a list or
    in a dict's values; a `messages` entry also in LangGraph's shorthands) in the semconv message shape,
    everything else as it is."""
    if _is_message(value):
        return message(value)
    if isinstance(value, dict) and top:
        return {
            key: run_value(_coerced(item) if key == "messages" else item, top=False) for key, item in value.items()
        }
    listed = _message_list(value)
    return input_messages(listed) if listed is not None else value


def run_messages(value: Any, output: bool = False) -> list[dict[str, Any]] | None:
    """The conversation in a chain's or agent's input or output (a message, a list of messages, or a
    `messages` entry such as LangGraph's state) as semconv messages; None when there is none. Output
    messages carry the finish reason "stop"."""
    if isinstance(value, dict):
        value = _coerced(value.get("messages"))
    if _is_message(value):
        value = [value]
    listed = _message_list(value)
    if listed is None:
        return None
    return [message(msg, "stop" if output else None) for msg in listed]
