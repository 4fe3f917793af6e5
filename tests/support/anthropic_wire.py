"""The Anthropic Messages API wire format, for cassettes and the loopback server.

Every body built here is checked against the anthropic SDK's own pydantic types by
`tests.support.wire.check`: declared fields only (the SDK's models accept unknown fields), required
fields present, literals matching, and the SDK's strict parse. A stream is the exact public SSE
sequence: message_start, then per content block content_block_start / (ping after the first) /
content_block_delta... / content_block_stop, then message_delta with the usage, then message_stop.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.support.wire import check, error_problems, response_type

API = "https://api.anthropic.com"
MODEL = "claude-sonnet-5-5"
CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "anthropic"


def usage(input_tokens: int, output_tokens: int, *, cache_read: int = 0, cache_creation: int = 0) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
        "cache_creation": {"ephemeral_5m_input_tokens": cache_creation, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def message(
    content: list[dict[str, Any]],
    *,
    id: str = "msg_01XFDUDYJgAACzvnptvVoYEL",
    stop_reason: str = "end_turn",
    usage: dict[str, Any] | None = None,
    model: str = MODEL,
    beta: bool = False,
) -> dict[str, Any]:
    body = {
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage or globals()["usage"](12, 6),
    }
    if beta:
        body["container"] = None
        body["context_management"] = None
    return check(response_type("/v1/messages", streamed=False, beta=beta), body)


def _start_block(block: dict[str, Any]) -> dict[str, Any]:
    kind = block["type"]
    if kind == "text":
        return {"type": "text", "text": ""}
    if kind == "thinking":
        return {"type": "thinking", "thinking": "", "signature": ""}
    if kind == "tool_use":
        return {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
    return block


def _deltas(block: dict[str, Any], pieces: int) -> list[dict[str, Any]]:
    def split(text: str) -> list[str]:
        size = max(1, -(-len(text) // pieces))
        return [text[i : i + size] for i in range(0, len(text), size)] or [""]

    kind = block["type"]
    if kind == "text":
        return [{"type": "text_delta", "text": piece} for piece in split(block["text"])]
    if kind == "thinking":
        deltas = [{"type": "thinking_delta", "thinking": piece} for piece in split(block["thinking"])]
        return [*deltas, {"type": "signature_delta", "signature": block["signature"]}]
    if kind == "tool_use":
        arguments = json.dumps(block["input"])
        return [{"type": "input_json_delta", "partial_json": piece} for piece in split(arguments)]
    return []


def stream_events(final: dict[str, Any], *, pieces: int = 2, beta: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """The SSE events the API sends for the message `final` (as `message` built it)."""
    event_type = response_type("/v1/messages", streamed=True, beta=beta)
    start_usage = {**final["usage"], "output_tokens": 1}
    start = {**final, "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(final["content"]):
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": _start_block(block)},
            )
        )
        if index == 0:
            events.append(("ping", {"type": "ping"}))
        for delta in _deltas(block, pieces):
            events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta_usage = {
        "input_tokens": final["usage"]["input_tokens"],
        "cache_creation_input_tokens": final["usage"]["cache_creation_input_tokens"],
        "cache_read_input_tokens": final["usage"]["cache_read_input_tokens"],
        "output_tokens": final["usage"]["output_tokens"],
    }
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": final["stop_reason"], "stop_sequence": None},
                "usage": delta_usage,
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    for name, data in events:
        assert data["type"] == name, (name, data)
        check(event_type, data)
    return events


def sse(events: list[tuple[str, dict[str, Any]]]) -> str:
    return "".join(f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n" for name, data in events)


def error(kind: str, text: str) -> dict[str, Any]:
    body = {"type": "error", "error": {"type": kind, "message": text}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}
    found = error_problems(body, "/v1/messages")
    assert not found, found
    return body


def token_count(input_tokens: int) -> dict[str, Any]:
    return check(response_type("/v1/messages/count_tokens", streamed=False), {"input_tokens": input_tokens})


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 529: ""}


def interaction(
    request: dict[str, Any], status: int, *, body: Any = None, events: Any = None, path: str = "/v1/messages"
) -> dict[str, Any]:
    """One vcrpy interaction: the request as the SDK sends it (no credentials) and the API's answer."""
    if events is not None:
        content_type, payload = "text/event-stream; charset=utf-8", sse(events)
    else:
        content_type, payload = "application/json", json.dumps(body, separators=(",", ":"))
    return {
        "request": {
            "body": json.dumps(request, separators=(",", ":")),
            "headers": {"anthropic-version": ["2023-06-01"], "content-type": ["application/json"]},
            "method": "POST",
            "uri": API + path,
        },
        "response": {
            "status": {"code": status, "message": _REASONS[status]},
            "headers": {
                "content-type": [content_type],
                "request-id": ["req_011CSHoEeqs5C35K2UUqR7Fy"],
                "anthropic-organization-id": ["8c3a4e7e-0000-4000-8000-000000000000"],
            },
            "body": {"string": payload},
        },
    }


def write_cassette(name: str, interactions: list[dict[str, Any]]) -> Path:
    path = CASSETTES / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}, sort_keys=False, width=10_000))
    return path
