"""Exact-wire OpenAI bodies for the loopback server: Chat Completions and the Responses API.

Every builder returns what the public API sends (JSON bodies, SSE `data:` payloads), and every body
is checked against the openai SDK's own pydantic types with `tests.support.wire.check` (declared fields
only, required fields present, literals, strict parse), so a loopback reply can never drift from the
real wire format.
"""

from __future__ import annotations

from typing import Any

from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent

from tests.support.wire import check, error_problems

CHAT_MODEL = "gpt-4o-mini-2024-07-18"
RESPONSES_MODEL = "gpt-4.1-mini-2025-04-14"
CREATED = 1764201600  # 2025-11-27T00:00:00Z
FINGERPRINT = "fp_560af6e559"


# --- Chat Completions -------------------------------------------------------------------------------


def chat_usage(prompt_tokens: int = 12, completion_tokens: int = 5, cached_tokens: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_completion(
    content: str,
    *,
    completion_id: str = "chatcmpl-CXtap0001",
    model: str = CHAT_MODEL,
    finish_reason: str = "stop",
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body = {
        "id": completion_id,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": usage if usage is not None else chat_usage(),
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    }
    return check(ChatCompletion, body)


def _chunk(completion_id: str, model: str, choices: list[Any], with_usage_field: bool) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
        "choices": choices,
    }
    if with_usage_field:  # with include_usage every chunk carries `"usage": null` but the last
        chunk["usage"] = None
    return chunk


def chat_chunks(
    pieces: list[str],
    *,
    completion_id: str = "chatcmpl-CXtap0002",
    model: str = CHAT_MODEL,
    finish_reason: str = "stop",
    usage: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The `data:` payloads of a streamed chat completion; with `usage`, the final usage-only chunk too."""
    with_usage = usage is not None
    chunks = [
        _chunk(
            completion_id,
            model,
            [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": "", "refusal": None},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
            with_usage,
        )
    ]
    for piece in pieces:
        chunks.append(
            _chunk(
                completion_id,
                model,
                [{"index": 0, "delta": {"content": piece}, "logprobs": None, "finish_reason": None}],
                with_usage,
            )
        )
    chunks.append(
        _chunk(
            completion_id,
            model,
            [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish_reason}],
            with_usage,
        )
    )
    if usage is not None:
        last = _chunk(completion_id, model, [], False)
        last["usage"] = usage
        chunks.append(last)
    for chunk in chunks:
        check(ChatCompletionChunk, chunk)
    return chunks


# --- Responses API ----------------------------------------------------------------------------------


def responses_usage(input_tokens: int = 14, output_tokens: int = 6) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }


def output_message(text: str, *, message_id: str = "msg_tap0001", status: str = "completed") -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}] if text else [],
    }


def response(
    text: str | None,
    *,
    response_id: str = "resp_tap0001",
    model: str = RESPONSES_MODEL,
    status: str = "completed",
    usage: dict[str, Any] | None = None,
    message_id: str = "msg_tap0001",
) -> dict[str, Any]:
    """A `Response` object; `text=None` gives the empty-output snapshot of `response.created`."""
    done = status == "completed"
    body = {
        "id": response_id,
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "background": False,
        "completed_at": CREATED + 1 if done else None,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "max_tool_calls": None,
        "model": model,
        "output": [output_message(text, message_id=message_id)] if text is not None else [],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default" if done else "auto",
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": (usage if usage is not None else responses_usage()) if done else None,
        "user": None,
        "metadata": {},
    }
    return check(Response, body)


def response_events(
    pieces: list[str],
    *,
    response_id: str = "resp_tap0002",
    model: str = RESPONSES_MODEL,
    usage: dict[str, Any] | None = None,
    message_id: str = "msg_tap0002",
) -> list[tuple[str, dict[str, Any]]]:
    """The `(event, data)` pairs of a streamed Responses API call (the API sends no `[DONE]`)."""
    text = "".join(pieces)
    events: list[dict[str, Any]] = [
        {
            "type": "response.created",
            "response": response(None, response_id=response_id, model=model, status="in_progress"),
        },
        {
            "type": "response.in_progress",
            "response": response(None, response_id=response_id, model=model, status="in_progress"),
        },
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**output_message("", message_id=message_id, status="in_progress"), "content": []},
        },
        {
            "type": "response.content_part.added",
            "item_id": message_id,
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []},
        },
    ]
    for piece in pieces:
        events.append(
            {
                "type": "response.output_text.delta",
                "item_id": message_id,
                "output_index": 0,
                "content_index": 0,
                "delta": piece,
                "logprobs": [],
            }
        )
    events += [
        {
            "type": "response.output_text.done",
            "item_id": message_id,
            "output_index": 0,
            "content_index": 0,
            "text": text,
            "logprobs": [],
        },
        {
            "type": "response.content_part.done",
            "item_id": message_id,
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "text": text, "annotations": [], "logprobs": []},
        },
        {"type": "response.output_item.done", "output_index": 0, "item": output_message(text, message_id=message_id)},
        {
            "type": "response.completed",
            "response": response(text, response_id=response_id, model=model, usage=usage, message_id=message_id),
        },
    ]
    pairs = []
    for number, event in enumerate(events):
        event["sequence_number"] = number
        check(ResponseStreamEvent, event)
        pairs.append((event["type"], event))
    return pairs


# --- Errors -----------------------------------------------------------------------------------------


def error_body(message: str, *, kind: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    """The API's error envelope (`{"error": {...}}`), as the SDK's `APIStatusError.body` sees it."""
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    found = error_problems(body)
    assert not found, found
    return body
