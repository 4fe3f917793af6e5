"""Part 2 · Anthropic: a system prompt, a streamed tool use through messages.stream(), thinking and cache usage.

The fake API (`serve`) answers in the exact wire format of the public API (tests/support/anthropic_wire.py).
"""

from __future__ import annotations

from demo_output import Telemetry, app, header
from tests.support import anthropic_wire as wire
from tests.support.loopback import LoopbackAPI, Reply, Request

import anthropic

MODEL = "claude-sonnet-5-5"
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
MANUAL = "The llmtap manual. " * 40  # a long system prompt, cached by the API (cache_control)


def _messages(request: Request) -> Reply:
    body = request.body
    if body.get("stream"):  # the tool-use turn, streamed
        tool_use = {"type": "tool_use", "id": "toolu_01DemoWeather", "name": "get_weather", "input": {"city": "Oslo"}}
        final = wire.message(
            [{"type": "text", "text": "Let me check the weather."}, tool_use],
            id="msg_01DemoStream",
            stop_reason="tool_use",
            usage=wire.usage(380, 54),
        )
        return Reply(events=wire.stream_events(final, pieces=3), done_marker=False)
    if body.get("thinking"):  # extended thinking, with the system prompt read from the prompt cache
        usage = {**wire.usage(42, 310, cache_read=1800, cache_creation=200)}
        reply = wire.message(
            [
                {"type": "thinking", "thinking": "Check divisors up to 31: none divides 1013.", "signature": "EqQBCg"},
                {"type": "text", "text": "Yes, 1013 is prime.", "citations": None},
            ],
            id="msg_01DemoThink",
            usage=usage,
        )
        return Reply(body=reply)
    return Reply(body=wire.message([{"type": "text", "text": "Hello!", "citations": None}], usage=wire.usage(14, 3)))


def serve(api: LoopbackAPI) -> None:
    api.route("POST", "/v1/messages", _messages)


def run(api: LoopbackAPI, telemetry: Telemetry) -> None:
    header(2, "Anthropic: system prompt, streamed tool use (messages.stream), thinking + cache-token usage")
    client = anthropic.Anthropic(api_key="sk-ant-demo-not-a-real-key", base_url=api.base_url, max_retries=0)

    message = client.messages.create(
        model=MODEL, max_tokens=256, system="You are terse.", messages=[{"role": "user", "content": "Say hello"}]
    )
    app("messages.create:", message.content[0].text)

    with client.messages.stream(
        model=MODEL,
        max_tokens=512,
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    app("messages.stream(): text_stream =", repr(text))
    app("                   get_final_message():", final.stop_reason, final.content[1].name, final.content[1].input)

    message = client.messages.create(
        model=MODEL,
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 2048},
        system=[{"type": "text", "text": MANUAL, "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "Is 1013 prime?"}],
    )
    usage = message.usage
    app("thinking:", repr(message.content[1].text))
    app(
        f"  API usage: input_tokens={usage.input_tokens} cache_read={usage.cache_read_input_tokens}",
        f"cache_creation={usage.cache_creation_input_tokens} output_tokens={usage.output_tokens}",
    )
    total = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
    app(f"  gen_ai.usage.input_tokens is all input (semantic conventions): {total}, cache counts apart")
    telemetry.show_new_spans()
