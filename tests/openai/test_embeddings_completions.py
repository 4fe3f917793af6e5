"""Embeddings and legacy Completions through the real openai SDK, replayed from cassettes."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from tests.support.cassettes import call_openai, cassette, operation_count, token_usage
from tests.support.cost import with_cost
from tests.support.telemetry import Telemetry, attribute_json

MODES = ["sync", "async"]
SERVER = {"server.address": "api.openai.com", "server.port": 443}
INSTRUCT = {
    "gen_ai.operation.name": "text_completion",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-3.5-turbo-instruct",
}
PROMPT = "Write a tagline for an ice cream shop."


@pytest.mark.parametrize("mode", MODES)
def test_embeddings(instrumented: Telemetry, mode: str) -> None:
    with cassette("embeddings_create"):
        result = call_openai(
            mode,
            lambda client: client.embeddings.create(
                model="text-embedding-3-small",
                input=["The food was delicious.", "The waiter was rude."],
                encoding_format="float",
                dimensions=8,
            ),
        )
    assert [len(item.embedding) for item in result.data] == [8, 8]
    span = instrumented.only_span()
    assert span.name == "embeddings text-embedding-3-small"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == with_cost({
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "text-embedding-3-small",
        **SERVER,
        "gen_ai.request.encoding_formats": ("float",),
        "gen_ai.embeddings.dimension.count": 8,
        "gen_ai.response.model": "text-embedding-3-small",
        "gen_ai.usage.input_tokens": 11,
    })
    assert token_usage(instrumented) == {"input": (1, 11)}
    assert operation_count(instrumented) == 1


@pytest.mark.parametrize("mode", MODES)
def test_legacy_completion(instrumented: Telemetry, mode: str) -> None:
    with cassette("completions_create"):
        completion = call_openai(
            mode,
            lambda client: client.completions.create(
                model="gpt-3.5-turbo-instruct", prompt=PROMPT, max_tokens=16, temperature=0.7
            ),
        )
    assert completion.choices[0].text == "\n\nScoops of happiness, served daily."
    span = instrumented.only_span()
    assert span.name == "text_completion gpt-3.5-turbo-instruct"
    assert span.kind is SpanKind.CLIENT
    attributes = dict(span.attributes)
    assert attribute_json(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": PROMPT}]}
    ]
    assert attribute_json(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "\n\nScoops of happiness, served daily."}],
            "finish_reason": "stop",
        }
    ]
    del attributes["gen_ai.input.messages"], attributes["gen_ai.output.messages"]
    assert attributes == with_cost({
        **INSTRUCT,
        **SERVER,
        "gen_ai.request.temperature": 0.7,
        "gen_ai.request.max_tokens": 16,
        "gen_ai.response.id": "cmpl-CbQCmA9dBl6UwX1yK4fO8rR3gEh0S",
        "gen_ai.response.model": "gpt-3.5-turbo-instruct:20230824-v2",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 9,
    })
    assert token_usage(instrumented) == {"input": (1, 10), "output": (1, 9)}
    assert operation_count(instrumented) == 1
    assert operation_count(instrumented, "gen_ai.client.operation.time_to_first_chunk") == 0


@pytest.mark.parametrize("mode", MODES)
def test_legacy_completion_stream(instrumented: Telemetry, mode: str) -> None:
    def create(client: Any) -> Any:
        return client.completions.create(model="gpt-3.5-turbo-instruct", prompt=PROMPT, max_tokens=5, stream=True)

    async def consume_async(client: Any) -> list[Any]:
        return [chunk async for chunk in await create(client)]

    with cassette("completions_stream"):
        chunks = call_openai(mode, (lambda client: list(create(client))) if mode == "sync" else consume_async)
    assert "".join(chunk.choices[0].text for chunk in chunks) == "\n\nScoops of joy"
    span = instrumented.only_span()
    attributes = dict(span.attributes)
    assert attributes.pop("gen_ai.response.time_to_first_chunk") > 0
    assert attribute_json(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "\n\nScoops of joy"}], "finish_reason": "length"}
    ]
    del attributes["gen_ai.input.messages"], attributes["gen_ai.output.messages"]
    assert attributes == {
        **INSTRUCT,
        **SERVER,
        "gen_ai.request.stream": True,
        "gen_ai.request.max_tokens": 5,
        "gen_ai.response.id": "cmpl-CbQDnB0eCm7VxY2zL5gP9sS4hFi1T",
        "gen_ai.response.model": "gpt-3.5-turbo-instruct:20230824-v2",
        "gen_ai.response.finish_reasons": ("length",),
        "llmtap.stream.outcome": "completed",
    }
    assert token_usage(instrumented) == {}
    assert operation_count(instrumented) == 1
    assert operation_count(instrumented, "gen_ai.client.operation.time_to_first_chunk") == 1
