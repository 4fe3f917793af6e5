"""The Responses API through the real openai SDK, replayed from cassettes: spans, content and metrics."""

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
    plain_attributes,
    usage,
)
from tests.support.openai_requests import INSTRUCTIONS, WEATHER_FN
from tests.support.telemetry import Telemetry, attribute_json

MODES = ["sync", "async"]
BASE = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "server.address": "api.openai.com",
    "server.port": 443,
    "openai.response.service_tier": "default",
    "openai.api.type": "responses",
}
QUESTION = "Is it raining in Paris? Answer, then check."
SHORT = "Weather in Paris in one short sentence."
STREAMED_ANSWER = "Light rain and 14 °C in Paris."


def instruction_free(span: Any) -> dict[str, Any]:
    """`plain_attributes` less the instructions too (asserted separately)."""
    return plain_attributes(span, "gen_ai.system_instructions")


@pytest.mark.parametrize("mode", MODES)
def test_create_with_instructions_tools_and_reasoning(instrumented: Telemetry, mode: str) -> None:
    with cassette("responses_create"):
        response = call_openai(
            mode,
            lambda client: client.responses.create(
                model="o4-mini",
                instructions=INSTRUCTIONS,
                input=[{"role": "user", "content": [{"type": "input_text", "text": QUESTION}]}],
                tools=[WEATHER_FN],
                reasoning={"effort": "low", "summary": "auto"},
                max_output_tokens=800,
            ),
        )
    assert [item.type for item in response.output] == ["reasoning", "message", "function_call"]
    span = instrumented.only_span()
    assert span.name == "chat o4-mini"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert instruction_free(span) == {
        **BASE,
        "gen_ai.request.model": "o4-mini",
        "gen_ai.request.max_tokens": 800,
        "gen_ai.response.id": "resp_0a6f1e2d3c4b5a69788796a5b4c3d2e1f00112233445599",
        "gen_ai.response.model": "o4-mini-2025-04-16",
        "gen_ai.response.finish_reasons": ("tool_call",),
        **usage(1408, 236, cached=1280, reasoning=192, cache_written=0),
    }
    assert attribute_json(span, "gen_ai.system_instructions") == [{"type": "text", "content": INSTRUCTIONS}]
    assert attribute_json(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": QUESTION}]}
    ]
    assert attribute_json(span, "gen_ai.tool.definitions") == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": WEATHER_FN["parameters"],
        }
    ]
    summary = "The user wants current weather; I should answer briefly and call get_weather for Paris."
    assert attribute_json(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": summary},
                {"type": "text", "content": "I'll check the current conditions in Paris."},
                {
                    "type": "tool_call",
                    "id": "call_Vd8sK2mQ4xN7pL1rT5wY9zB3",
                    "name": "get_weather",
                    "arguments": {"location": "Paris"},
                },
            ],
            "finish_reason": "tool_call",
        }
    ]
    assert_metrics(instrumented, 1408, 236, streamed=False)


STREAM_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    *["response.output_text.delta"] * 8,
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]
STREAMED_OUTPUT = [
    {"role": "assistant", "parts": [{"type": "text", "content": STREAMED_ANSWER}], "finish_reason": "stop"}
]


@pytest.mark.parametrize("mode", MODES)
def test_streamed_create(instrumented: Telemetry, mode: str) -> None:
    def create(client: Any) -> Any:
        return client.responses.create(model="gpt-4.1-mini", input=SHORT, stream=True, temperature=0.5)

    async def consume_async(client: Any) -> list[Any]:
        return [event async for event in await create(client)]

    with cassette("responses_stream"):
        events = call_openai(mode, (lambda client: list(create(client))) if mode == "sync" else consume_async)
    assert [event.type for event in events] == STREAM_EVENTS
    span = instrumented.only_span()
    assert span.name == "chat gpt-4.1-mini"
    assert instruction_free(span) == {
        **BASE,
        "gen_ai.request.model": "gpt-4.1-mini",
        "gen_ai.request.temperature": 0.5,
        "gen_ai.request.stream": True,
        "gen_ai.response.id": "resp_0b7a2f3e4d5c6b7a8998a7b6c5d4e3f2011223344556677",
        "gen_ai.response.model": "gpt-4.1-mini-2025-04-14",
        "gen_ai.response.finish_reasons": ("stop",),
        **usage(18, 11, cache_written=0),
        "llmtap.stream.outcome": "completed",
    }
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0
    assert attribute_json(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": SHORT}]}
    ]
    assert attribute_json(span, "gen_ai.output.messages") == STREAMED_OUTPUT
    assert_metrics(instrumented, 18, 11, streamed=True)


@pytest.mark.parametrize("mode", MODES)
def test_stream_helper(instrumented: Telemetry, mode: str) -> None:
    def sync(client: Any) -> Any:
        with client.responses.stream(model="gpt-4.1-mini", input=SHORT) as stream:
            deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
            return deltas, stream.get_final_response()

    async def async_(client: Any) -> Any:
        async with client.responses.stream(model="gpt-4.1-mini", input=SHORT) as stream:
            deltas = [event.delta async for event in stream if event.type == "response.output_text.delta"]
            return deltas, await stream.get_final_response()

    with cassette("responses_stream_helper"):
        deltas, final = call_openai(mode, sync if mode == "sync" else async_)
    assert "".join(deltas) == STREAMED_ANSWER
    assert final.output_text == STREAMED_ANSWER
    span = instrumented.only_span()
    assert instruction_free(span) == {
        **BASE,
        "gen_ai.request.model": "gpt-4.1-mini",
        "gen_ai.request.stream": True,
        "gen_ai.response.id": "resp_0c8b3a4f5e6d7c8b9aa9b8c7d6e5f4031223344556677aa",
        "gen_ai.response.model": "gpt-4.1-mini-2025-04-14",
        "gen_ai.response.finish_reasons": ("stop",),
        **usage(18, 11, cache_written=0),
        "llmtap.stream.outcome": "completed",
    }
    assert attribute_json(span, "gen_ai.output.messages") == STREAMED_OUTPUT
    assert_metrics(instrumented, 18, 11, streamed=True)


@pytest.mark.parametrize("mode", MODES)
def test_parse_with_a_pydantic_model(instrumented: Telemetry, mode: str) -> None:
    with cassette("responses_parse"):
        parsed = call_openai(
            mode,
            lambda client: client.responses.parse(
                model="gpt-4.1-mini", input="Give facts about Lisbon.", text_format=CityAnswer
            ),
        )
    assert parsed.output_parsed == CityAnswer(city="Lisbon", country="Portugal", population_millions=0.55)
    span = instrumented.only_span()
    assert instruction_free(span) == {
        **BASE,
        "gen_ai.request.model": "gpt-4.1-mini",
        "gen_ai.output.type": "json",
        "llmtap.openai.response_format": "json_schema",
        "gen_ai.response.id": "resp_0d9c4b5a6f7e8d9c0bba0c9d8e7f6051423344556677889c",
        "gen_ai.response.model": "gpt-4.1-mini-2025-04-14",
        "gen_ai.response.finish_reasons": ("stop",),
        **usage(74, 20, cache_written=0),
    }
    text = '{"city":"Lisbon","country":"Portugal","population_millions":0.55}'
    assert attribute_json(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": "stop"}
    ]
    assert isinstance(parsed, openai.types.responses.ParsedResponse)
    assert_metrics(instrumented, 74, 20, streamed=False)
