"""Messages API calls replayed from cassettes (exact public wire format) through the real SDK."""

from __future__ import annotations

import pytest
from opentelemetry.trace import SpanKind, StatusCode

import anthropic
import llmtap
from tests.anthropic.conftest import API_KEY, cassettes
from tests.support.anthropic_wire import MODEL
from tests.support.telemetry import Telemetry, attribute_json


def client() -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=API_KEY, max_retries=0, open_telemetry=False)


def aclient() -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key=API_KEY, max_retries=0, open_telemetry=False)


PLAIN = {
    "max_tokens": 256,
    "messages": [{"role": "user", "content": "Say hello"}],
    "model": MODEL,
    "stop_sequences": ["END"],
    "system": "You are terse.",
}


def assert_plain_span(span: object, telemetry: Telemetry) -> None:
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    attributes = dict(span.attributes)
    assert {key: attributes[key] for key in attributes if not key.startswith("gen_ai.") or "messages" not in key} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "server.address": "api.anthropic.com",
        "server.port": 443,
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.response.id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 6,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.usage.cache_creation.input_tokens": 0,
        "anthropic.message.stop_reason": "end_turn",
        "anthropic.response.service_tier": "standard",
        "anthropic.request.id": "req_011CSHoEeqs5C35K2UUqR7Fy",
        "gen_ai.system_instructions": '[{"type":"text","content":"You are terse."}]',
    }
    assert attribute_json(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "Say hello"}]}
    ]
    assert attribute_json(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello!"}], "finish_reason": "stop"}
    ]
    tokens = sorted(
        (point.attributes["gen_ai.token.type"], point.sum)
        for point in telemetry.metric_points("gen_ai.client.token.usage")
    )
    assert tokens == [("input", 12), ("output", 6)]


def test_plain_message(instrumented: Telemetry) -> None:
    with cassettes.use_cassette("plain_message.yaml"):
        message = client().messages.create(**PLAIN)
    assert isinstance(message, anthropic.types.Message)
    assert message.content[0].text == "Hello!"
    span = instrumented.only_span()
    assert_plain_span(span, instrumented)
    assert llmtap.span_of(message) == (format(span.context.trace_id, "032x"), format(span.context.span_id, "016x"))


async def test_plain_message_async(instrumented: Telemetry) -> None:
    with cassettes.use_cassette("plain_message.yaml"):
        message = await aclient().messages.create(**PLAIN)
    assert message.id == "msg_01XFDUDYJgAACzvnptvVoYEL"
    assert_plain_span(instrumented.only_span(), instrumented)


def test_raw_response_parsed_later(instrumented: Telemetry) -> None:
    with cassettes.use_cassette("plain_message.yaml"):
        raw = client().messages.with_raw_response.create(**PLAIN)
        assert instrumented.genai_spans() == []
        assert raw.headers["request-id"] == "req_011CSHoEeqs5C35K2UUqR7Fy"
        message = raw.parse()
    assert isinstance(message, anthropic.types.Message)
    assert_plain_span(instrumented.only_span(), instrumented)


def test_tool_use_round_trip(instrumented: Telemetry) -> None:
    sdk = client()
    with cassettes.use_cassette("tool_use.yaml"):
        first = sdk.messages.create(
            max_tokens=512,
            messages=[{"role": "user", "content": "Weather in Paris?"}],
            model=MODEL,
            tool_choice={"type": "auto"},
            tools=[
                {
                    "name": "get_weather",
                    "description": "Get the current weather in a given location",
                    "input_schema": {
                        "type": "object",
                        "properties": {"location": {"type": "string", "description": "The city and state"}},
                        "required": ["location"],
                    },
                }
            ],
        )
        tool_use = first.content[1]
        second = sdk.messages.create(
            max_tokens=512,
            messages=[
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": [{"type": "text", "text": "Let me check."}, tool_use.model_dump()]},
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": "18 degrees, sunny"}],
                },
            ],
            model=MODEL,
            tools=[{"name": "get_weather", "input_schema": {"type": "object"}}],
        )
    assert second.content[0].text == "It is 18 degrees and sunny in Paris."
    one, two = instrumented.genai_spans()
    assert one.attributes["gen_ai.response.finish_reasons"] == ("tool_call",)
    assert one.attributes["anthropic.message.stop_reason"] == "tool_use"
    assert attribute_json(one, "gen_ai.tool.definitions") == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string", "description": "The city and state"}},
                "required": ["location"],
            },
        }
    ]
    assert attribute_json(one, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Let me check."},
                {
                    "type": "tool_call",
                    "id": "toolu_01A09q90qw90lq917835lq9",
                    "name": "get_weather",
                    "arguments": {"location": "Paris"},
                },
            ],
            "finish_reason": "tool_call",
        }
    ]
    assert attribute_json(two, "gen_ai.input.messages")[1:] == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Let me check."},
                {
                    "type": "tool_call",
                    "id": "toolu_01A09q90qw90lq917835lq9",
                    "name": "get_weather",
                    "arguments": {"location": "Paris"},
                },
            ],
        },
        {
            "role": "user",
            "parts": [
                {"type": "tool_call_response", "id": "toolu_01A09q90qw90lq917835lq9", "response": "18 degrees, sunny"}
            ],
        },
    ]
    assert two.attributes["gen_ai.usage.input_tokens"] == 460


def test_tool_use_streamed_arguments_reassembled(instrumented: Telemetry) -> None:
    with cassettes.use_cassette("tool_use_stream.yaml"):
        stream = client().messages.create(
            max_tokens=512,
            messages=[{"role": "user", "content": "Weather in Paris?"}],
            model=MODEL,
            tool_choice={"type": "auto"},
            tools=[{"name": "get_weather", "input_schema": {"type": "object"}}],
            stream=True,
        )
        assert isinstance(stream, anthropic.Stream)
        kinds = [event.type for event in stream]
    assert kinds.count("content_block_delta") == 6
    span = instrumented.only_span()
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["llmtap.stream.outcome"] == "completed"
    assert span.attributes["gen_ai.usage.output_tokens"] == 54
    assert span.attributes["gen_ai.usage.input_tokens"] == 380
    assert span.attributes["gen_ai.response.id"] == "msg_01Cq9w938a90dw8s"
    assert span.attributes["gen_ai.response.finish_reasons"] == ("tool_call",)
    assert attribute_json(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "Let me check."},
                {
                    "type": "tool_call",
                    "id": "toolu_01A09q90qw90lq917835lq9",
                    "name": "get_weather",
                    "arguments": {"location": "Paris"},
                },
            ],
            "finish_reason": "tool_call",
        }
    ]


def test_thinking_and_redacted_thinking(instrumented: Telemetry) -> None:
    with cassettes.use_cassette("thinking.yaml"):
        client().messages.create(
            max_tokens=4096,
            messages=[{"role": "user", "content": "Is 1013 prime?"}],
            model=MODEL,
            thinking={"type": "enabled", "budget_tokens": 2048},
        )
    span = instrumented.only_span()
    assert span.attributes["anthropic.thinking.type"] == "enabled"
    assert span.attributes["anthropic.thinking.budget_tokens"] == 2048
    assert span.attributes["gen_ai.usage.reasoning.output_tokens"] == 280
    assert span.attributes["gen_ai.usage.output_tokens"] == 310
    assert attribute_json(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Check divisors up to 31."},
                {"type": "reasoning", "content": "", "redacted": True},
                {"type": "text", "content": "Yes, 1013 is prime."},
            ],
            "finish_reason": "stop",
        }
    ]


def test_cache_tokens_count_in_input_tokens(instrumented: Telemetry) -> None:
    request = {
        "max_tokens": 128,
        "messages": [{"role": "user", "content": "Summarise the manual."}],
        "model": MODEL,
        "system": [{"type": "text", "text": "MANUAL TEXT", "cache_control": {"type": "ephemeral"}}],
    }
    sdk = client()
    with cassettes.use_cassette("cache_usage.yaml"):
        sdk.messages.create(**request)
        sdk.messages.create(**request)
    written, read = instrumented.genai_spans()
    usage_keys = (
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.output_tokens",
    )
    assert [written.attributes[key] for key in usage_keys] == [21 + 2048, 2048, 0, 5]
    assert [read.attributes[key] for key in usage_keys] == [21 + 2048, 0, 2048, 5]
    assert attribute_json(read, "gen_ai.system_instructions") == [{"type": "text", "content": "MANUAL TEXT"}]


STREAM_REQUEST = {"max_tokens": 256, "messages": [{"role": "user", "content": "Count to three"}], "model": MODEL}


def assert_stream_span(span: object, outcome: str = "completed") -> None:
    assert span.attributes["llmtap.stream.outcome"] == outcome
    assert span.attributes["gen_ai.response.id"] == "msg_01Strm9w938a90"
    assert span.attributes["gen_ai.usage.input_tokens"] == 12
    assert span.attributes["gen_ai.usage.output_tokens"] == 6
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0
    assert attribute_json(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "One, two, three."}], "finish_reason": "stop"}
    ]


def test_stream_helper_text_stream_and_final_message(instrumented: Telemetry) -> None:
    with cassettes.use_cassette("stream_helper.yaml"):
        manager = client().messages.stream(**STREAM_REQUEST)
        assert isinstance(manager, anthropic.lib.streaming.MessageStreamManager)
        with manager as stream:
            assert isinstance(stream, anthropic.lib.streaming.MessageStream)
            assert "".join(stream.text_stream) == "One, two, three."
            assert stream.get_final_text() == "One, two, three."
            final = stream.get_final_message()
            assert stream.current_message_snapshot is final
    span = instrumented.only_span()
    assert_stream_span(span)
    ref = (format(span.context.trace_id, "032x"), format(span.context.span_id, "016x"))
    assert llmtap.span_of(final) == ref
    assert llmtap.span_of(stream) == ref


async def test_stream_helper_async_until_done(instrumented: Telemetry) -> None:
    with cassettes.use_cassette("stream_helper.yaml"):
        async with aclient().messages.stream(**STREAM_REQUEST) as stream:
            assert isinstance(stream, anthropic.lib.streaming.AsyncMessageStream)
            await stream.until_done()
            final = await stream.get_final_message()
    assert final.content[0].text == "One, two, three."
    assert_stream_span(instrumented.only_span())


def test_stream_helper_events(instrumented: Telemetry) -> None:
    with cassettes.use_cassette("stream_helper.yaml"), client().messages.stream(**STREAM_REQUEST) as stream:
        kinds = [event.type for event in stream]
    assert kinds == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "text",
        "content_block_delta",
        "text",
        "content_block_delta",
        "text",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert_stream_span(instrumented.only_span())


def test_beta_messages(instrumented: Telemetry) -> None:
    sdk = client()
    request = {"max_tokens": 256, "messages": [{"role": "user", "content": "Say hello"}], "model": MODEL}
    with cassettes.use_cassette("beta.yaml"):
        message = sdk.beta.messages.create(**request)
        with sdk.beta.messages.stream(**request) as stream:
            assert isinstance(stream, anthropic.lib.streaming.BetaMessageStream)
            text = stream.get_final_text()
    assert isinstance(message, anthropic.types.beta.BetaMessage)
    assert text == "Beta stream."
    plain, streamed = instrumented.genai_spans()
    assert attribute_json(plain, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello from beta!"}], "finish_reason": "stop"}
    ]
    assert streamed.attributes["gen_ai.response.id"] == "msg_01BetaStrm"
    assert streamed.attributes["llmtap.stream.outcome"] == "completed"


def test_overloaded_and_bad_request_errors(instrumented: Telemetry) -> None:
    sdk = client()
    request = {"max_tokens": 256, "messages": [{"role": "user", "content": "Say hello"}], "model": MODEL}
    with cassettes.use_cassette("errors.yaml"):
        with pytest.raises(anthropic.OverloadedError) as overloaded:
            sdk.messages.create(**request)
        with pytest.raises(anthropic.BadRequestError) as bad:
            sdk.messages.create(**{**request, "max_tokens": -1})
    assert overloaded.value.status_code == 529
    assert bad.value.status_code == 400
    first, second = instrumented.genai_spans()
    assert first.attributes["error.type"] == "OverloadedError"
    assert first.status.status_code is StatusCode.ERROR
    assert "Overloaded" in first.status.description
    assert second.attributes["error.type"] == "BadRequestError"
    assert "max_tokens: Input should be greater than or equal to 1" in second.status.description


def test_count_tokens_has_the_count_and_no_content(instrumented: Telemetry) -> None:
    with cassettes.use_cassette("count_tokens.yaml"):
        count = client().messages.count_tokens(messages=[{"role": "user", "content": "Secret prompt"}], model=MODEL)
    assert count.input_tokens == 14
    span = instrumented.only_span()
    assert span.name == f"count_tokens {MODEL}"
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "count_tokens",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "server.address": "api.anthropic.com",
        "server.port": 443,
        "anthropic.message.count_tokens.input_tokens": 14,
    }
    assert instrumented.metric_points("gen_ai.client.token.usage") == []


def test_content_off_records_no_content(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTAP_CAPTURE_CONTENT", "false")
    llmtap.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, config={})
    try:
        with cassettes.use_cassette("tool_use_stream.yaml"):
            stream = client().messages.create(
                max_tokens=512,
                messages=[{"role": "user", "content": "Weather in Paris?"}],
                model=MODEL,
                tools=[{"name": "get_weather", "input_schema": {"type": "object"}}],
                stream=True,
            )
            for _ in stream:
                pass
        with cassettes.use_cassette("plain_message.yaml"):
            client().messages.create(**PLAIN)
    finally:
        llmtap.uninstrument()
    streamed, plain = telemetry.genai_spans()
    for span in (streamed, plain):
        assert not [key for key in span.attributes if "messages" in key or "instructions" in key or "tool.def" in key]
    assert streamed.attributes["gen_ai.response.finish_reasons"] == ("tool_call",)
    assert plain.attributes["gen_ai.usage.output_tokens"] == 6
    exported = telemetry.everything_exported()
    for secret in ("Weather in Paris", "Say hello", "Hello!", "Paris", "You are terse"):
        assert secret not in exported


def test_api_key_never_exported(instrumented: Telemetry) -> None:
    sdk = client()
    with cassettes.use_cassette("errors.yaml"), pytest.raises(anthropic.OverloadedError):
        sdk.messages.create(max_tokens=256, messages=[{"role": "user", "content": "Say hello"}], model=MODEL)
    with cassettes.use_cassette("plain_message.yaml"):
        sdk.messages.create(**PLAIN)
    exported = instrumented.everything_exported()
    assert len(instrumented.genai_spans()) == 2
    assert API_KEY not in exported
    assert "x-api-key" not in exported
