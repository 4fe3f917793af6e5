"""Overhead of llmtap on the real openai SDK, with an in-process HTTP transport (no network noise).

    python benchmarks/bench_openai.py [--quick] [--json out.json] [--batch]

Every scenario runs the real `openai` client over `httpx2.MockTransport`, which answers with bodies in
the exact public wire format (checked against the SDK's own pydantic types at start-up). Each scenario
is timed in blocks, alternating uninstrumented and instrumented (`llmtap.instrument()` /
`llmtap.uninstrument()`) block by block, so load from other processes hits both sides alike. The
figure per side is the minimum over blocks of the mean time per call (the least disturbed block); the
median over blocks is kept in the JSON output too.

The floor is what the instrumented chat span itself costs: one SDK span with the same name, kind and
attributes as a real exported llmtap chat span, started and ended through the same tracer provider.
`overhead/floor` is llmtap's added time per chat call divided by that floor (target <= 1.5).

Memory: VmRSS growth over many chat calls, uninstrumented and instrumented, each after a warm-up, with
the span exporter dropping every span.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

import harness
import openai
from harness import Scenario

MODEL = "gpt-4o-mini"
API_KEY = "sk-bench-0000000000000000000000000000"
CREATED = 1764201600
STREAM_CHUNKS = 50
LONG_STREAM_CHUNKS = 250

# ---------------------------------------------------------------------------------------------------
# Wire-format bodies (what api.openai.com sends for /v1/chat/completions)
# ---------------------------------------------------------------------------------------------------

_USAGE = {
    "prompt_tokens": 23,
    "completion_tokens": 12,
    "total_tokens": 35,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


def chat_body() -> dict[str, Any]:
    return {
        "id": "chatcmpl-BENCH0000000000000000000001",
        "object": "chat.completion",
        "created": CREATED,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "The capital of France is Paris.",
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": _USAGE,
        "service_tier": "default",
        "system_fingerprint": "fp_b376dfbbd5",
    }


def tool_calls_body() -> dict[str, Any]:
    body = chat_body()
    body["id"] = "chatcmpl-BENCH0000000000000000000002"
    body["choices"] = [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_Bench0000000000000000001",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'},
                    },
                    {
                        "id": "call_Bench0000000000000000002",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": '{"timezone": "Europe/Paris"}'},
                    },
                ],
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ]
    body["usage"] = {**_USAGE, "completion_tokens": 51, "total_tokens": 74}
    return body


def stream_events(chunks: int) -> list[dict[str, Any]]:
    """`chunks` ChatCompletionChunk events: role + first token, content tokens, then finish_reason."""
    events = []
    for index in range(chunks):
        delta: dict[str, Any] = {}
        finish = None
        if index == 0:
            delta = {"role": "assistant", "content": "", "refusal": None}
        elif index == chunks - 1:
            finish = "stop"
        else:
            delta = {"content": f" tok{index}"}
        events.append(
            {
                "id": "chatcmpl-BENCH0000000000000000000003",
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": "gpt-4o-mini-2024-07-18",
                "service_tier": "default",
                "system_fingerprint": "fp_b376dfbbd5",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                "obfuscation": "abcd",
            }
        )
    return events


def sse(events: Sequence[dict[str, Any]]) -> bytes:
    out = [f"data: {json.dumps(event, separators=(',', ':'))}\n\n" for event in events]
    out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def check_wire_format() -> None:
    """Every body fits the SDK's own types exactly (tests/support/wire.py: no unknown or missing field)."""
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    check = harness.wire().check
    for body in (chat_body(), tool_calls_body()):
        check(ChatCompletion, body)
    for event in stream_events(3):
        check(ChatCompletionChunk, event)


# ---------------------------------------------------------------------------------------------------
# Clients over an in-process transport
# ---------------------------------------------------------------------------------------------------

_JSON = {"content-type": "application/json"}
_SSE = {"content-type": "text/event-stream; charset=utf-8"}


def sync_client(body: bytes, headers: dict[str, str]) -> openai.OpenAI:
    return openai.OpenAI(api_key=API_KEY, max_retries=0, http_client=harness.http_client(body, headers))


def async_client(body: bytes, headers: dict[str, str]) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=API_KEY, max_retries=0, http_client=harness.async_http_client(body, headers))


MESSAGES = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Current time in a timezone.",
            "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
        },
    },
]


def scenarios() -> list[Scenario]:
    chat = sync_client(json.dumps(chat_body()).encode(), _JSON)
    tools = sync_client(json.dumps(tool_calls_body()).encode(), _JSON)
    stream = sync_client(sse(stream_events(STREAM_CHUNKS)), _SSE)
    long_stream = sync_client(sse(stream_events(LONG_STREAM_CHUNKS)), _SSE)
    achat = async_client(json.dumps(chat_body()).encode(), _JSON)
    loop = asyncio.new_event_loop()

    def run_chat(n: int) -> None:
        create = chat.chat.completions.create
        for _ in range(n):
            create(model=MODEL, messages=MESSAGES, temperature=0.2, max_tokens=64)

    def run_tools(n: int) -> None:
        create = tools.chat.completions.create
        for _ in range(n):
            create(model=MODEL, messages=MESSAGES, tools=TOOLS, tool_choice="auto")

    def streamer(client: openai.OpenAI, chunks: int) -> Callable[[int], None]:
        def run_stream(n: int) -> None:
            create = client.chat.completions.create
            for _ in range(n):
                seen = 0
                for _chunk in create(model=MODEL, messages=MESSAGES, stream=True):
                    seen += 1
                if seen != chunks:
                    raise SystemExit(f"stream yielded {seen} chunks, expected {chunks}")

        return run_stream

    async def achat_n(n: int) -> None:
        create = achat.chat.completions.create
        for _ in range(n):
            await create(model=MODEL, messages=MESSAGES, temperature=0.2, max_tokens=64)

    def run_achat(n: int) -> None:
        loop.run_until_complete(achat_n(n))

    return [
        Scenario("chat", run_chat),
        Scenario(f"chat stream {STREAM_CHUNKS} chunks", streamer(stream, STREAM_CHUNKS), STREAM_CHUNKS),
        Scenario(
            f"chat stream {LONG_STREAM_CHUNKS} chunks", streamer(long_stream, LONG_STREAM_CHUNKS), LONG_STREAM_CHUNKS
        ),
        Scenario("chat, two tool calls", run_tools),
        Scenario("async chat", run_achat),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    check_wire_format()
    # Calls per block: roughly 20-60 ms of work per block on a laptop.
    calls = {"chat": 300, "async chat": 300, "chat, two tool calls": 250}
    calls[f"chat stream {STREAM_CHUNKS} chunks"] = 100
    calls[f"chat stream {LONG_STREAM_CHUNKS} chunks"] = 25
    return harness.main(
        __doc__, argv, sdk=openai, scenarios=scenarios, calls=calls, call="chat", unit="chunk", slope=(1, 2)
    )


if __name__ == "__main__":
    sys.exit(main())
