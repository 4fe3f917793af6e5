"""Chat Completions through the real openai SDK, replayed from cassettes: spans, content and metrics."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

import openai
from tests.support.cassettes import (
    CityAnswer,
    assert_metrics,
    call_openai,
    cassette,
    operation_count,
    plain_attributes,
    token_usage,
    usage,
)
from tests.support.openai_requests import JSON_SCHEMA_FORMAT, QUESTION, TIME_TOOL, WEATHER_TOOL
from tests.support.telemetry import Telemetry, attribute_json

MODES = ["sync", "async"]
SERVER = {"server.address": "api.openai.com", "server.port": 443}
CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "openai.api.type": "chat_completions",
}
RESPONSE_META = {
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "openai.response.service_tier": "default",
    "openai.response.system_fingerprint": "fp_560af6e559",
}
TOOL_DEFINITIONS = [{"type": "function", **tool["function"]} for tool in (WEATHER_TOOL, TIME_TOOL)]
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="  # a 1x1 image
CALL_WEATHER, CALL_TIME = "call_Qx7bW2nE5rT8yU1iO4pA6sDf", "call_Lm3kJ9hG6fD2sA5zX8cV1bNq"
TOOL_CALL_PARTS = [
    {
        "type": "tool_call",
        "id": CALL_WEATHER,
        "name": "get_weather",
        "arguments": {"location": "Paris", "unit": "celsius"},
    },
    {"type": "tool_call", "id": CALL_TIME, "name": "get_time", "arguments": {"timezone": "Europe/Paris"}},
]
ASSISTANT_CALLS = [
    {
        "id": CALL_WEATHER,
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"location":"Paris","unit":"celsius"}'},
    },
    {"id": CALL_TIME, "type": "function", "function": {"name": "get_time", "arguments": '{"timezone":"Europe/Paris"}'}},
]
CAPITAL = [{"role": "user", "content": "What is the capital of France?"}]
CAPITAL_INPUT = [{"role": "user", "parts": [{"type": "text", "content": "What is the capital of France?"}]}]
CAPITAL_OUTPUT = [
    {
        "role": "assistant",
        "parts": [{"type": "text", "content": "Paris is the capital of France."}],
        "finish_reason": "stop",
    }
]


def completed_stream(response_id: str, finish_reason: str, **usage_attributes: int) -> dict[str, Any]:
    """`plain_attributes` of a chat stream read to its end."""
    return {
        **CHAT,
        **SERVER,
        "gen_ai.request.stream": True,
        "gen_ai.response.id": response_id,
        "gen_ai.response.finish_reasons": (finish_reason,),
        **RESPONSE_META,
        **usage_attributes,
        "llmtap.stream.outcome": "completed",
    }


@pytest.mark.parametrize("mode", MODES)
def test_chat_with_every_request_parameter(instrumented: Telemetry, mode: str) -> None:
    with cassette("chat_plain"):
        completion = call_openai(
            mode,
            lambda client: client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "Name a European capital as JSON."}],
                temperature=0.2,
                top_p=0.9,
                max_completion_tokens=120,
                stop=["END"],
                seed=42,
                frequency_penalty=0.1,
                presence_penalty=0.2,
                n=2,
                service_tier="default",
                response_format=JSON_SCHEMA_FORMAT,
            ),
        )
    assert isinstance(completion, openai.types.chat.ChatCompletion)
    span = instrumented.only_span()
    assert span.name == "chat gpt-4o-mini"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert plain_attributes(span) == {
        **CHAT,
        **SERVER,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.max_tokens": 120,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.request.seed": 42,
        "gen_ai.request.frequency_penalty": 0.1,
        "gen_ai.request.presence_penalty": 0.2,
        "gen_ai.request.choice.count": 2,
        "openai.request.service_tier": "default",
        "gen_ai.output.type": "json",
        "llmtap.openai.response_format": "json_schema",
        "gen_ai.response.id": "chatcmpl-CbQ2vXk9Rm4TzP7wY1nF3hJ6sLd8E",
        "gen_ai.response.finish_reasons": ("stop", "stop"),
        **RESPONSE_META,
        **usage(31, 22),
    }
    assert attribute_json(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "Name a European capital as JSON."}]}
    ]
    assert attribute_json(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": '{"city":"Paris","country":"France"}'}],
            "finish_reason": "stop",
        },
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": '{"city":"Vienna","country":"Austria"}'}],
            "finish_reason": "stop",
        },
    ]
    assert "gen_ai.tool.definitions" not in span.attributes
    assert_metrics(instrumented, 31, 22)


@pytest.mark.parametrize("mode", MODES)
def test_chat_returning_two_tool_calls(instrumented: Telemetry, mode: str) -> None:
    with cassette("chat_tools"):
        completion = call_openai(
            mode,
            lambda client: client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}], tools=[WEATHER_TOOL, TIME_TOOL]
            ),
        )
    assert [call.id for call in completion.choices[0].message.tool_calls] == [CALL_WEATHER, CALL_TIME]
    span = instrumented.only_span()
    assert plain_attributes(span) == {
        **CHAT,
        **SERVER,
        "gen_ai.response.id": "chatcmpl-CbQ3aZ5yWq2LxN8vB4mK7tR1pGh0J",
        "gen_ai.response.finish_reasons": ("tool_calls",),
        **RESPONSE_META,
        **usage(112, 51),
    }
    assert attribute_json(span, "gen_ai.tool.definitions") == TOOL_DEFINITIONS
    assert attribute_json(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": QUESTION}]}
    ]
    assert attribute_json(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": TOOL_CALL_PARTS, "finish_reason": "tool_call"}
    ]
    assert_metrics(instrumented, 112, 51)


TOOL_RESULT_MESSAGES = [
    {"role": "system", "content": "You are a concise travel assistant."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": QUESTION + " Also, what is in this photo?"},
            {
                "type": "image_url",
                "image_url": {
                    "url": "https://upload.wikimedia.org/wikipedia/commons/a/a8/Tour_Eiffel_Wikimedia_Commons.jpg",
                    "detail": "low",
                },
            },
            {
                "type": "image_url",
                "image_url": {"url": f"data:image/png;base64,{PNG}"},
            },
        ],
    },
    {"role": "assistant", "content": None, "tool_calls": ASSISTANT_CALLS},
    {"role": "tool", "tool_call_id": CALL_WEATHER, "content": '{"temperature_c":14,"conditions":"light rain"}'},
    {"role": "tool", "tool_call_id": CALL_TIME, "content": "2026-11-27T15:42:00+01:00"},
]


@pytest.mark.parametrize("mode", MODES)
def test_chat_follow_up_with_tool_results_system_message_and_images(instrumented: Telemetry, mode: str) -> None:
    with cassette("chat_tool_results"):
        call_openai(
            mode,
            lambda client: client.chat.completions.create(
                model="gpt-4o-mini", messages=TOOL_RESULT_MESSAGES, tools=[WEATHER_TOOL, TIME_TOOL]
            ),
        )
    span = instrumented.only_span()
    assert plain_attributes(span) == {
        **CHAT,
        **SERVER,
        "gen_ai.response.id": "chatcmpl-CbQ4dR8uYt1MwB6nC3xV9kE2qFj5H",
        "gen_ai.response.finish_reasons": ("stop",),
        **RESPONSE_META,
        **usage(1290, 33, cached=1152),
    }
    assert attribute_json(span, "gen_ai.input.messages") == [
        {"role": "system", "parts": [{"type": "text", "content": "You are a concise travel assistant."}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": QUESTION + " Also, what is in this photo?"},
                {
                    "type": "uri",
                    "modality": "image",
                    "uri": "https://upload.wikimedia.org/wikipedia/commons/a/a8/Tour_Eiffel_Wikimedia_Commons.jpg",
                },
                {
                    "type": "blob",
                    "modality": "image",
                    "mime_type": "image/png",
                    "content": PNG,
                },
            ],
        },
        {"role": "assistant", "parts": TOOL_CALL_PARTS},
        {
            "role": "tool",
            "parts": [
                {
                    "type": "tool_call_response",
                    "id": CALL_WEATHER,
                    "response": '{"temperature_c":14,"conditions":"light rain"}',
                }
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": CALL_TIME, "response": "2026-11-27T15:42:00+01:00"}],
        },
    ]
    answer = "It is 14 °C with light rain in Paris, and the local time is 15:42. The photo shows the Eiffel Tower."
    assert attribute_json(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": answer}], "finish_reason": "stop"}
    ]
    assert_metrics(instrumented, 1290, 33)


def _consume(mode: str, create: Any) -> list[Any]:
    """Iterate a stream to its end (sync or async) and return its chunks."""

    def sync(client: Any) -> list[Any]:
        return list(create(client))

    async def async_(client: Any) -> list[Any]:
        return [chunk async for chunk in await create(client)]

    return call_openai(mode, sync if mode == "sync" else async_)


@pytest.mark.parametrize("mode", MODES)
def test_chat_stream_content(instrumented: Telemetry, mode: str) -> None:
    with cassette("chat_stream"):
        chunks = _consume(
            mode, lambda client: client.chat.completions.create(model="gpt-4o-mini", messages=CAPITAL, stream=True)
        )
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == "Paris is the capital of France."
    span = instrumented.only_span()
    assert span.name == "chat gpt-4o-mini"
    assert plain_attributes(span) == completed_stream("chatcmpl-CbQ5fT2wUe9NpQ4rD7yH1jK6zXa3L", "stop")
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0
    assert attribute_json(span, "gen_ai.input.messages") == CAPITAL_INPUT
    assert attribute_json(span, "gen_ai.output.messages") == CAPITAL_OUTPUT
    # Without include_usage the API sends no usage: no token metrics, but duration and TTFC.
    assert token_usage(instrumented) == {}
    assert operation_count(instrumented) == 1
    assert operation_count(instrumented, "gen_ai.client.operation.time_to_first_chunk") == 1


@pytest.mark.parametrize("mode", MODES)
def test_chat_stream_with_usage(instrumented: Telemetry, mode: str) -> None:
    with cassette("chat_stream_usage"):
        chunks = _consume(
            mode,
            lambda client: client.chat.completions.create(
                model="gpt-4o-mini", messages=CAPITAL, stream=True, stream_options={"include_usage": True}
            ),
        )
    assert len(chunks) == 10
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 21
    span = instrumented.only_span()
    assert plain_attributes(span) == completed_stream("chatcmpl-CbQ6gU3xVf0OqR5sE8zI2kL7aYb4M", "stop", **usage(14, 7))
    assert attribute_json(span, "gen_ai.output.messages") == CAPITAL_OUTPUT
    assert_metrics(instrumented, 14, 7, streamed=True)


@pytest.mark.parametrize("mode", MODES)
def test_chat_stream_reassembles_two_tool_calls(instrumented: Telemetry, mode: str) -> None:
    with cassette("chat_stream_tools"):
        chunks = _consume(
            mode,
            lambda client: client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": QUESTION}],
                tools=[WEATHER_TOOL, TIME_TOOL],
                stream=True,
            ),
        )
    assert len(chunks) == 11
    span = instrumented.only_span()
    assert plain_attributes(span) == completed_stream("chatcmpl-CbQ7hV4yWg1PrS6tF9aJ3mM8bZc5N", "tool_calls")
    assert attribute_json(span, "gen_ai.tool.definitions") == TOOL_DEFINITIONS
    assert attribute_json(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": TOOL_CALL_PARTS, "finish_reason": "tool_call"}
    ]


def test_chat_stream_helper(instrumented: Telemetry) -> None:
    def run(client: Any) -> Any:
        with client.chat.completions.stream(
            model="gpt-4o-mini", messages=CAPITAL, stream_options={"include_usage": True}
        ) as stream:
            texts = [event.delta for event in stream if event.type == "content.delta"]
            return texts, stream.get_final_completion()

    with cassette("chat_stream_helper"):
        texts, final = call_openai("sync", run)
    assert "".join(texts) == "Paris is the capital of France."
    span = instrumented.only_span()
    assert plain_attributes(span) == completed_stream("chatcmpl-CbQ8iW5zXh2QsT7uG0bK4nN9cAd6O", "stop", **usage(14, 7))
    assert attribute_json(span, "gen_ai.output.messages") == CAPITAL_OUTPUT
    assert final.choices[0].message.content == "Paris is the capital of France."
    assert_metrics(instrumented, 14, 7, streamed=True)


def test_chat_stream_helper_async(instrumented: Telemetry) -> None:
    async def run(client: Any) -> Any:
        async with client.chat.completions.stream(
            model="gpt-4o-mini", messages=CAPITAL, stream_options={"include_usage": True}
        ) as stream:
            return await stream.get_final_completion()

    with cassette("chat_stream_helper"):
        final = call_openai("async", run)
    assert final.usage.prompt_tokens == 14
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "completed"
    assert span.attributes["gen_ai.response.id"] == "chatcmpl-CbQ8iW5zXh2QsT7uG0bK4nN9cAd6O"
    assert attribute_json(span, "gen_ai.output.messages") == CAPITAL_OUTPUT
    assert_metrics(instrumented, 14, 7, streamed=True)


@pytest.mark.parametrize("mode", MODES)
def test_chat_parse_with_a_pydantic_model(instrumented: Telemetry, mode: str) -> None:
    with cassette("chat_parse"):
        parsed = call_openai(
            mode,
            lambda client: client.chat.completions.parse(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "Give facts about Lisbon."}],
                response_format=CityAnswer,
            ),
        )
    assert parsed.choices[0].message.parsed == CityAnswer(city="Lisbon", country="Portugal", population_millions=0.55)
    span = instrumented.only_span()
    assert plain_attributes(span) == {
        **CHAT,
        **SERVER,
        "gen_ai.output.type": "json",
        "llmtap.openai.response_format": "json_schema",
        "gen_ai.response.id": "chatcmpl-CbQ9jX6aYi3RtU8vH1cL5oO0dBe7P",
        "gen_ai.response.finish_reasons": ("stop",),
        **RESPONSE_META,
        **usage(86, 19),
    }
    text = '{"city":"Lisbon","country":"Portugal","population_millions":0.55}'
    assert attribute_json(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": "stop"}
    ]


SAY_HELLO = [{"role": "user", "content": "Say hello."}]


@pytest.mark.parametrize("mode", MODES)
def test_with_raw_response(instrumented: Telemetry, mode: str) -> None:
    def sync(client: Any) -> Any:
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=SAY_HELLO)
        assert instrumented.genai_spans() == []  # recorded when parsed
        return raw, raw.parse()

    async def async_(client: Any) -> Any:
        raw = await client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=SAY_HELLO)
        return raw, raw.parse()

    with cassette("chat_raw_response"):
        raw, completion = call_openai(mode, sync if mode == "sync" else async_)
    assert raw.headers["x-request-id"] == "req_8d5e9f0a1b2c3d4e5f60718293041526"
    assert completion.choices[0].message.content == "Hello!"
    span = instrumented.only_span()
    assert plain_attributes(span) == {
        **CHAT,
        **SERVER,
        "gen_ai.response.id": "chatcmpl-CbQAkY7bZj4SuV9wI2dM6pP1eCf8Q",
        "gen_ai.response.finish_reasons": ("stop",),
        **RESPONSE_META,
        **usage(9, 2),
    }
    assert attribute_json(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello!"}], "finish_reason": "stop"}
    ]
    assert_metrics(instrumented, 9, 2)


@pytest.mark.parametrize("mode", MODES)
def test_with_streaming_response(instrumented: Telemetry, mode: str) -> None:
    def sync(client: Any) -> Any:
        with client.chat.completions.with_streaming_response.create(model="gpt-4o-mini", messages=SAY_HELLO) as r:
            return r.headers["x-request-id"], r.parse()

    async def async_(client: Any) -> Any:
        async with client.chat.completions.with_streaming_response.create(model="gpt-4o-mini", messages=SAY_HELLO) as r:
            return r.headers["x-request-id"], await r.parse()

    with cassette("chat_streaming_response"):
        request_id, completion = call_openai(mode, sync if mode == "sync" else async_)
    assert request_id == "req_9e6f0a1b2c3d4e5f6071829304152637"
    assert completion.choices[0].message.content == "Hello there!"
    span = instrumented.only_span()
    assert plain_attributes(span) == {
        **CHAT,
        **SERVER,
        "gen_ai.response.id": "chatcmpl-CbQBlZ8cAk5TvW0xJ3eN7qQ2fDg9R",
        "gen_ai.response.finish_reasons": ("stop",),
        **RESPONSE_META,
        **usage(9, 3),
    }
    assert_metrics(instrumented, 9, 3)


@pytest.mark.parametrize("mode", MODES)
def test_bad_request_error(instrumented: Telemetry, mode: str) -> None:
    with cassette("chat_error_400"), pytest.raises(openai.BadRequestError) as raised:
        call_openai(
            mode,
            lambda client: client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], temperature=3
            ),
        )
    assert type(raised.value) is openai.BadRequestError
    assert raised.value.status_code == 400
    assert raised.value.code == "decimal_above_max_value"
    assert raised.value.param == "temperature"
    span = instrumented.only_span()
    assert span.status.status_code is StatusCode.ERROR
    message = "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead."
    assert span.status.description == f"Error code: 400 - {message}"
    # Backends take the error type from the OTel `exception` event; its message is the same scrubbed text.
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "openai.BadRequestError"
    assert event.attributes["exception.message"] == f"Error code: 400 - {message}"
    assert event.attributes["exception.stacktrace"].startswith("Traceback (most recent call last):")
    assert event.attributes["exception.stacktrace"].endswith(f"openai.BadRequestError: Error code: 400 - {message}\n")
    assert plain_attributes(span) == {
        **CHAT,
        **SERVER,
        "gen_ai.request.temperature": 3,
        "error.type": "BadRequestError",
    }
    assert token_usage(instrumented) == {}
    [point] = instrumented.metric_points("gen_ai.client.operation.duration")
    assert point.count == 1
    assert point.attributes["error.type"] == "BadRequestError"


@pytest.mark.parametrize("mode", MODES)
def test_rate_limit_error(instrumented: Telemetry, mode: str) -> None:
    with cassette("chat_error_429"), pytest.raises(openai.RateLimitError) as raised:
        call_openai(
            mode,
            lambda client: client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]
            ),
        )
    assert raised.value.status_code == 429
    assert raised.value.code == "rate_limit_exceeded"
    assert raised.value.response.headers["retry-after"] == "1"
    span = instrumented.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description.startswith("Error code: 429 - Rate limit reached for gpt-4o-mini")
    assert plain_attributes(span) == {**CHAT, **SERVER, "error.type": "RateLimitError"}
    [point] = instrumented.metric_points("gen_ai.client.operation.duration")
    assert point.attributes["error.type"] == "RateLimitError"


def test_api_key_is_never_exported(instrumented: Telemetry) -> None:
    from tests.support.cassettes import TEST_API_KEY

    with cassette("chat_tools"):
        call_openai(
            "sync",
            lambda client: client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}], tools=[WEATHER_TOOL, TIME_TOOL]
            ),
        )
    exported = instrumented.everything_exported()
    assert TEST_API_KEY not in exported
    assert "authorization" not in exported.lower()
