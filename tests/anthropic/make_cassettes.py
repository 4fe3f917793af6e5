"""Writes cassettes/anthropic/*.yaml from the wire builders (run by hand: python -m tests.anthropic.make_cassettes).

The real API cannot be reached from the machines these were made on, so each cassette is the exact public
wire format, built by `tests.support.anthropic_wire` and checked there against the SDK's own types.
"""

from __future__ import annotations

from tests.anthropic.conftest import API_KEY
from tests.support import anthropic_wire as wire

MODEL = wire.MODEL
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string", "description": "The city and state"}},
        "required": ["location"],
    },
}
TOOL_USE = {
    "type": "tool_use",
    "id": "toolu_01A09q90qw90lq917835lq9",
    "name": "get_weather",
    "input": {"location": "Paris"},
}


def plain() -> None:
    request = {
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "Say hello"}],
        "model": MODEL,
        "stop_sequences": ["END"],
        "system": "You are terse.",
    }
    reply = wire.message([{"type": "text", "text": "Hello!", "citations": None}])
    wire.write_cassette("plain_message", [wire.interaction(request, 200, body=reply)])


def tool_use() -> None:
    first = {
        "max_tokens": 512,
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "model": MODEL,
        "tool_choice": {"type": "auto"},
        "tools": [WEATHER_TOOL],
    }
    reply = wire.message(
        [{"type": "text", "text": "Let me check.", "citations": None}, TOOL_USE],
        id="msg_01Aq9w938a90dw8q",
        stop_reason="tool_use",
        usage=wire.usage(380, 54),
    )
    second = {
        "max_tokens": 512,
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [{"type": "text", "text": "Let me check."}, TOOL_USE]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": TOOL_USE["id"], "content": "18 degrees, sunny"}],
            },
        ],
        "model": MODEL,
        "tools": [WEATHER_TOOL],
    }
    answer = wire.message(
        [{"type": "text", "text": "It is 18 degrees and sunny in Paris.", "citations": None}],
        id="msg_01Bq9w938a90dw8r",
        usage=wire.usage(460, 14),
    )
    wire.write_cassette(
        "tool_use", [wire.interaction(first, 200, body=reply), wire.interaction(second, 200, body=answer)]
    )
    streamed = wire.message(
        [{"type": "text", "text": "Let me check.", "citations": None}, TOOL_USE],
        id="msg_01Cq9w938a90dw8s",
        stop_reason="tool_use",
        usage=wire.usage(380, 54),
    )
    for block in streamed["content"]:
        block.pop("citations", None)
    wire.write_cassette(
        "tool_use_stream",
        [wire.interaction({**first, "stream": True}, 200, events=wire.stream_events(streamed, pieces=3))],
    )


def thinking() -> None:
    request = {
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": "Is 1013 prime?"}],
        "model": MODEL,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
    }
    usage = {**wire.usage(42, 310), "output_tokens_details": {"thinking_tokens": 280}}
    reply = wire.message(
        [
            {"type": "thinking", "thinking": "Check divisors up to 31.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA"},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
            {"type": "text", "text": "Yes, 1013 is prime.", "citations": None},
        ],
        id="msg_01Thk9w938a90dw8q",
        usage=usage,
    )
    wire.write_cassette("thinking", [wire.interaction(request, 200, body=reply)])


def cache_usage() -> None:
    request = {
        "max_tokens": 128,
        "messages": [{"role": "user", "content": "Summarise the manual."}],
        "model": MODEL,
        "system": [{"type": "text", "text": "MANUAL TEXT", "cache_control": {"type": "ephemeral"}}],
    }
    first = wire.message(
        [{"type": "text", "text": "A manual.", "citations": None}],
        id="msg_01Cache1",
        usage=wire.usage(21, 5, cache_creation=2048),
    )
    second = wire.message(
        [{"type": "text", "text": "A manual.", "citations": None}],
        id="msg_01Cache2",
        usage=wire.usage(21, 5, cache_read=2048),
    )
    wire.write_cassette(
        "cache_usage", [wire.interaction(request, 200, body=first), wire.interaction(request, 200, body=second)]
    )


def stream_helper() -> None:
    request = {
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "Count to three"}],
        "model": MODEL,
        "stream": True,
    }
    final = wire.message([{"type": "text", "text": "One, two, three."}], id="msg_01Strm9w938a90")
    wire.write_cassette("stream_helper", [wire.interaction(request, 200, events=wire.stream_events(final, pieces=3))])


def beta() -> None:
    request = {
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "Say hello"}],
        "model": MODEL,
    }
    reply = wire.message([{"type": "text", "text": "Hello from beta!", "citations": None}], id="msg_01Beta", beta=True)
    stream_final = wire.message([{"type": "text", "text": "Beta stream."}], id="msg_01BetaStrm", beta=True)
    wire.write_cassette(
        "beta",
        [
            wire.interaction(request, 200, body=reply),
            wire.interaction(
                {**request, "stream": True},
                200,
                events=wire.stream_events(stream_final, beta=True),
            ),
        ],
    )


def errors() -> None:
    request = {"max_tokens": 256, "messages": [{"role": "user", "content": "Say hello"}], "model": MODEL}
    wire.write_cassette(
        "errors",
        [
            wire.interaction(request, 529, body=wire.error("overloaded_error", "Overloaded")),
            wire.interaction(
                {**request, "max_tokens": -1},
                400,
                body=wire.error("invalid_request_error", "max_tokens: Input should be greater than or equal to 1"),
            ),
        ],
    )


def authentication_error() -> None:
    """A 401 whose message echoes the key sent (as some gateways do): the key must still never be exported."""
    request = {"max_tokens": 256, "messages": [{"role": "user", "content": "Say hello"}], "model": MODEL}
    body = wire.error("authentication_error", f"invalid x-api-key: {API_KEY}")
    wire.write_cassette("authentication_error", [wire.interaction(request, 401, body=body)])


# What `messages.parse(output_format=Capital)` sends: the pydantic model's JSON schema as `output_config.format`.
CAPITAL_SCHEMA = {
    "type": "object",
    "title": "Capital",
    "properties": {"city": {"type": "string", "title": "City"}, "country": {"type": "string", "title": "Country"}},
    "additionalProperties": False,
    "required": ["city", "country"],
}


def structured_output() -> None:
    request = {
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "Capital of France?"}],
        "model": MODEL,
        "output_config": {"format": {"schema": CAPITAL_SCHEMA, "type": "json_schema"}},
    }
    reply = wire.message(
        [{"type": "text", "text": '{"city":"Paris","country":"France"}', "citations": None}],
        id="msg_01Prs9w938a90dw8q",
        usage=wire.usage(180, 11),
    )
    wire.write_cassette("structured_output", [wire.interaction(request, 200, body=reply)])


def count_tokens() -> None:
    request = {"messages": [{"role": "user", "content": "Secret prompt"}], "model": MODEL}
    wire.write_cassette(
        "count_tokens",
        [wire.interaction(request, 200, body=wire.token_count(14), path="/v1/messages/count_tokens")],
    )


def main() -> None:
    makers = (plain, tool_use, thinking, cache_usage, stream_helper, beta, errors, authentication_error)
    for make in (*makers, structured_output, count_tokens):
        make()


if __name__ == "__main__":
    main()
