"""Overhead of llmtap on the real anthropic SDK, with an in-process HTTP transport (no network noise).

    python benchmarks/bench_anthropic.py [--quick] [--json out.json] [--batch]

Every scenario runs the real `anthropic` client over `httpx2.MockTransport`, which answers with bodies in
the exact public wire format of `/v1/messages`, built and checked at start-up by the strict checker the
test cassettes use (tests/support/anthropic_wire.py: the SDK's own pydantic types, no unknown fields).
Scenarios: `messages.create`, the same call streamed (message_start, content_block_start, ping,
50 content_block_delta, content_block_stop, message_delta with the usage, message_stop) and the
`messages.stream()` helper consuming `text_stream` over the same 50-delta stream; plus a 250-delta
stream, so that the marginal cost per streamed delta is the slope between the 50- and 250-delta streams
(as for OpenAI's chunks). Timing, floors and memory are those of bench_openai.py (benchmarks/harness.py);
the floor copies the message span.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import anthropic
import harness
from harness import Scenario

API_KEY = "sk-ant-api03-bench-0000000000000000000000000000"
REQUEST_ID = "req_011CSHoEeqs5C35K2UUqR7Fy"
DELTAS = 50
LONG_DELTAS = 250

SYSTEM = "You are a terse assistant."
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def wire() -> ModuleType:
    """tests/support/anthropic_wire.py: the wire builders and their strict check against the SDK's types."""
    return harness.wire("anthropic_wire")


def streamed_text(deltas: int) -> str:
    """`deltas` pieces of 5 characters: the wire builder splits it into exactly `deltas` text deltas."""
    return "".join(f" w{index:03d}" for index in range(deltas))


def message_body() -> bytes:
    """The message body, validated by the wire module as it builds it."""
    build = wire()
    message = build.message(
        [{"type": "text", "text": "The capital of France is Paris.", "citations": None}],
        id="msg_01BenchMessage000000000001",
        usage=build.usage(23, 12),
    )
    return json.dumps(message, separators=(",", ":")).encode()


def stream_body(deltas: int) -> bytes:
    """The SSE body of a message streamed in `deltas` text deltas, each event validated as it is built."""
    build = wire()
    final = build.message(
        [{"type": "text", "text": streamed_text(deltas)}],
        id="msg_01BenchStream0000000000002",
        usage=build.usage(23, deltas),
    )
    events = build.stream_events(final, pieces=deltas)
    kinds = [name for name, _ in events]
    expected = [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * deltas,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    if kinds != expected:
        raise SystemExit(f"unexpected stream shape: {kinds}")
    return build.sse(events).encode()


_JSON = {"content-type": "application/json", "request-id": REQUEST_ID}
_SSE = {"content-type": "text/event-stream; charset=utf-8", "request-id": REQUEST_ID}


def client(body: bytes, headers: dict[str, str]) -> anthropic.Anthropic:
    http = harness.http_client(body, headers)
    # The SDK's own tracing is off, as llmtap replaces it anyway (see llmtap_anthropic.native).
    return anthropic.Anthropic(api_key=API_KEY, max_retries=0, http_client=http, open_telemetry=False)


def scenarios() -> list[Scenario]:
    plain = client(message_body(), _JSON)
    streamed = client(stream_body(DELTAS), _SSE)
    long_streamed = client(stream_body(LONG_DELTAS), _SSE)
    request: dict[str, Any] = {"model": "claude-sonnet-5-5", "max_tokens": 64, "system": SYSTEM, "messages": MESSAGES}

    def run_message(n: int) -> None:
        create = plain.messages.create
        for _ in range(n):
            create(**request)

    def streamer(sdk: anthropic.Anthropic, expected: int) -> Callable[[int], None]:
        def run_stream(n: int) -> None:
            create = sdk.messages.create
            for _ in range(n):
                deltas = 0
                for event in create(**request, stream=True):
                    deltas += event.type == "content_block_delta"
                if deltas != expected:
                    raise SystemExit(f"stream yielded {deltas} deltas, expected {expected}")

        return run_stream

    text = streamed_text(DELTAS)

    def run_helper(n: int) -> None:
        stream = streamed.messages.stream
        for _ in range(n):
            with stream(**request) as events:
                received = "".join(events.text_stream)
            if received != text:
                raise SystemExit(f"helper stream text {received!r}, expected {text!r}")

    return [
        Scenario("message", run_message),
        Scenario(f"message stream {DELTAS} deltas", streamer(streamed, DELTAS), DELTAS),
        Scenario(f"helper stream {DELTAS} deltas", run_helper, DELTAS),
        Scenario(f"message stream {LONG_DELTAS} deltas", streamer(long_streamed, LONG_DELTAS), LONG_DELTAS),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    # Calls per block: roughly 20-60 ms of work per block on a laptop.
    calls = {"message": 300, f"message stream {DELTAS} deltas": 100, f"helper stream {DELTAS} deltas": 100}
    calls[f"message stream {LONG_DELTAS} deltas"] = 25
    return harness.main(
        __doc__, argv, sdk=anthropic, scenarios=scenarios, calls=calls, call="message", unit="delta", slope=(1, 3)
    )


if __name__ == "__main__":
    sys.exit(main())
