"""Messages API calls replayed from cassettes (exact public wire format) through the real SDK."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pydantic
import pytest
from opentelemetry.trace import SpanKind, StatusCode

import anthropic
import llmtap
from tests.anthropic.conftest import API_KEY, cassettes
from tests.anthropic.make_cassettes import WEATHER_TOOL
from tests.support.anthropic_wire import MODEL
from tests.support.cost import with_cost
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


# The assistant turn of tool_use.yaml / tool_use_stream.yaml, as `gen_ai.*.messages` parts.
TOOL_CALL_PARTS = [
    {"type": "text", "content": "Let me check."},
    {
        "type": "tool_call",
        "id": "toolu_01A09q90qw90lq917835lq9",
        "name": "get_weather",
        "arguments": {"location": "Paris"},
    },
]


def assert_plain_span(span: object, telemetry: Telemetry) -> None:
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    attributes = {key: value for key, value in span.attributes.items() if "messages" not in key}
    assert attributes == with_cost({
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
    })
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
            tools=[WEATHER_TOOL],
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
            "parts": TOOL_CALL_PARTS,
            "finish_reason": "tool_call",
        }
    ]
    assert attribute_json(two, "gen_ai.input.messages")[1:] == [
        {
            "role": "assistant",
            "parts": TOOL_CALL_PARTS,
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
    assert span.attributes["anthropic.request.id"] == "req_011CSHoEeqs5C35K2UUqR7Fy"
    assert span.attributes["gen_ai.response.finish_reasons"] == ("tool_call",)
    assert attribute_json(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": TOOL_CALL_PARTS,
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
    attributes = dict(span.attributes)
    assert attributes.pop("gen_ai.response.time_to_first_chunk") > 0
    assert {key: value for key, value in attributes.items() if "messages" not in key} == with_cost({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "server.address": "api.anthropic.com",
        "server.port": 443,
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.stream": True,
        "gen_ai.response.id": "msg_01Strm9w938a90",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 6,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.usage.cache_creation.input_tokens": 0,
        "llmtap.stream.outcome": outcome,
        # The `request-id` response header: streamed events carry none, so it is read from the stream's response.
        "anthropic.request.id": "req_011CSHoEeqs5C35K2UUqR7Fy",
        "anthropic.response.service_tier": "standard",
        "anthropic.message.stop_reason": "end_turn",
    })
    assert attribute_json(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "Count to three"}]}
    ]
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


def test_stream_helper_request_id_matches_the_sdk(instrumented: Telemetry) -> None:
    with cassettes.use_cassette("stream_helper.yaml"), client().messages.stream(**STREAM_REQUEST) as stream:
        stream.until_done()
        request_id = stream.request_id
    assert request_id == "req_011CSHoEeqs5C35K2UUqR7Fy"
    assert instrumented.only_span().attributes["anthropic.request.id"] == request_id


class Capital(pydantic.BaseModel):
    city: str
    country: str


PARSE_REQUEST = {"max_tokens": 256, "messages": [{"role": "user", "content": "Capital of France?"}], "model": MODEL}


def test_structured_output_parse(instrumented: Telemetry) -> None:
    with cassettes.use_cassette("structured_output.yaml"):
        message = client().messages.parse(**PARSE_REQUEST, output_format=Capital)
    assert isinstance(message, anthropic.types.ParsedMessage)
    assert message.parsed_output == Capital(city="Paris", country="France")
    span = instrumented.only_span()
    assert span.name == f"chat {MODEL}"
    assert dict(span.attributes) == with_cost({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "server.address": "api.anthropic.com",
        "server.port": 443,
        "gen_ai.request.max_tokens": 256,
        "gen_ai.output.type": "json",
        "gen_ai.response.id": "msg_01Prs9w938a90dw8q",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 180,
        "gen_ai.usage.output_tokens": 11,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.usage.cache_creation.input_tokens": 0,
        "anthropic.request.id": "req_011CSHoEeqs5C35K2UUqR7Fy",
        "anthropic.response.service_tier": "standard",
        "anthropic.message.stop_reason": "end_turn",
        "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"Capital of France?"}]}]',
        "gen_ai.output.messages": (
            '[{"role":"assistant","parts":[{"type":"text","content":"{\\"city\\":\\"Paris\\",\\"country\\":'
            '\\"France\\"}"}],"finish_reason":"stop"}]'
        ),
    })
    assert llmtap.span_of(message) == (format(span.context.trace_id, "032x"), format(span.context.span_id, "016x"))


async def test_structured_output_parse_async(instrumented: Telemetry) -> None:
    with cassettes.use_cassette("structured_output.yaml"):
        message = await aclient().messages.parse(**PARSE_REQUEST, output_format=Capital)
    assert message.parsed_output == Capital(city="Paris", country="France")
    span = instrumented.only_span()
    assert span.attributes["gen_ai.output.type"] == "json"
    assert attribute_json(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": '{"city":"Paris","country":"France"}'}],
            "finish_reason": "stop",
        }
    ]


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
    # the request id of an error response, as the SDK's exception carries it
    assert overloaded.value.request_id == "req_011CSHoEeqs5C35K2UUqR7Fy"
    assert first.attributes["anthropic.request.id"] == "req_011CSHoEeqs5C35K2UUqR7Fy"
    assert second.attributes["anthropic.request.id"] == bad.value.request_id


def test_count_tokens_has_the_count_and_no_content(
    instrumented: Telemetry, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmtap.cost import pricer

    monkeypatch.setattr(pricer, "_warned", set())  # the cost warnings of earlier tests forgotten
    with cassettes.use_cassette("count_tokens.yaml"), caplog.at_level(logging.WARNING, logger="llmtap"):
        count = client().messages.count_tokens(messages=[{"role": "user", "content": "Secret prompt"}], model=MODEL)
    assert [record.getMessage() for record in caplog.records] == []  # counting tokens is not billed: no cost warning
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


CONTENT_ENV = ("LLMTAP_CAPTURE_CONTENT", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "LLMTAP_CONFIG")


@pytest.fixture(params=["LLMTAP_CAPTURE_CONTENT", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "argument"])
def content_off(
    request: pytest.FixtureRequest, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Telemetry]:
    """llmtap instrumented with content capture switched off by one of the three switches."""
    for name in CONTENT_ENV:
        monkeypatch.delenv(name, raising=False)
    if request.param != "argument":
        monkeypatch.setenv(request.param, "false")
    llmtap.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        config={},
        capture_content=False if request.param == "argument" else None,
    )
    try:
        yield telemetry
    finally:
        llmtap.uninstrument()


def test_content_off_records_no_content(content_off: Telemetry) -> None:
    sdk = client()
    with cassettes.use_cassette("tool_use_stream.yaml"):
        stream = sdk.messages.create(
            max_tokens=512,
            messages=[{"role": "user", "content": "Weather in Paris?"}],
            model=MODEL,
            tools=[{"name": "get_weather", "input_schema": {"type": "object"}}],
            stream=True,
        )
        for _ in stream:
            pass
    with cassettes.use_cassette("plain_message.yaml"):
        sdk.messages.create(**PLAIN)
    with cassettes.use_cassette("stream_helper.yaml"), sdk.messages.stream(**STREAM_REQUEST) as helper:
        assert "".join(helper.text_stream) == "One, two, three."
    with cassettes.use_cassette("structured_output.yaml"):
        parsed = sdk.messages.parse(**PARSE_REQUEST, output_format=Capital)
    with cassettes.use_cassette("count_tokens.yaml"):
        sdk.messages.count_tokens(messages=[{"role": "user", "content": "Secret prompt"}], model=MODEL)
    assert parsed.parsed_output == Capital(city="Paris", country="France")

    streamed, plain, helped, structured, counted = content_off.genai_spans()
    content_keys = {
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
    }
    for span in (streamed, plain, helped, structured, counted):
        assert content_keys.isdisjoint(span.attributes)
        assert [event.name for event in span.events] == []
    # Metadata is still recorded.
    assert streamed.attributes["gen_ai.response.finish_reasons"] == ("tool_call",)
    assert streamed.attributes["llmtap.stream.outcome"] == "completed"
    assert plain.attributes["gen_ai.usage.output_tokens"] == 6
    assert helped.attributes["gen_ai.response.id"] == "msg_01Strm9w938a90"
    assert structured.attributes["gen_ai.output.type"] == "json"
    assert counted.attributes["anthropic.message.count_tokens.input_tokens"] == 14
    exported = content_off.everything_exported()
    for text in (
        "Weather in Paris",
        "Let me check",
        "get_weather",
        "Say hello",
        "Hello!",
        "You are terse",
        "Count to three",
        "One, two, three",
        "Capital of France",
        "France",
        "Secret prompt",
    ):
        assert text not in exported


def test_api_key_never_exported(instrumented: Telemetry, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="llmtap")
    sdk = client()
    with cassettes.use_cassette("errors.yaml"), pytest.raises(anthropic.OverloadedError):
        sdk.messages.create(max_tokens=256, messages=[{"role": "user", "content": "Say hello"}], model=MODEL)
    with cassettes.use_cassette("plain_message.yaml"):
        sdk.messages.create(**PLAIN)
    with cassettes.use_cassette("stream_helper.yaml"), sdk.messages.stream(**STREAM_REQUEST) as stream:
        stream.until_done()
    with cassettes.use_cassette("authentication_error.yaml"), pytest.raises(anthropic.AuthenticationError) as caught:
        sdk.messages.create(max_tokens=256, messages=[{"role": "user", "content": "Say hello"}], model=MODEL)

    assert caught.value.status_code == 401
    assert API_KEY in str(caught.value)  # the SDK's own exception is untouched...
    exported = instrumented.everything_exported()
    assert len(instrumented.genai_spans()) == 4
    assert API_KEY not in exported  # ...but nothing exported carries the key
    assert "sk-ant-api03" not in exported
    assert "x-api-key" not in exported.replace("invalid x-api-key: [REDACTED]", "")
    assert API_KEY not in caplog.text
    denied = instrumented.genai_spans()[-1]
    assert denied.attributes["error.type"] == "AuthenticationError"
    assert denied.status.status_code is StatusCode.ERROR
    assert denied.status.description == str(caught.value).replace(API_KEY, "[REDACTED]")
