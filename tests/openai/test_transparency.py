"""The application cannot tell llmtap is there: same types, same attributes, same helper behaviour,
and `llmtap.span_of` finds the span of every object a call produced."""

from __future__ import annotations

import pytest
from openai.types.chat import ChatCompletion
from openai.types.responses import Response
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

import llmtap
import openai
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply, Request, sse_bytes
from tests.support.telemetry import Telemetry, attribute_json

HEADERS = {"x-request-id": "req_tap7c0ffee", "openai-processing-ms": "42"}
PIECES = ["Hello", " there"]
TEXT = "Hello there"
MESSAGES = [{"role": "user", "content": "Greet me"}]


def _routes(request: Request) -> Reply:
    streamed = bool(request.body.get("stream"))
    if request.path == "/chat/completions":
        if streamed:
            return Reply(events=wire.chat_chunks(PIECES), headers=HEADERS)
        return Reply(body=wire.chat_completion(TEXT), headers=HEADERS)
    if streamed:
        return Reply(events=wire.response_events(PIECES), headers=HEADERS, done_marker=False)
    return Reply(body=wire.response(TEXT), headers=HEADERS)


@pytest.fixture
def server(api: LoopbackAPI) -> LoopbackAPI:
    api.route("POST", "/chat/completions", _routes)
    api.route("POST", "/responses", _routes)
    return api


def _client(api: LoopbackAPI) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test-transparency", base_url=api.base_url + "/", max_retries=0)


def _aclient(api: LoopbackAPI) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key="sk-test-transparency", base_url=api.base_url + "/", max_retries=0)


def _ref(span: ReadableSpan) -> llmtap.SpanRef:
    return llmtap.SpanRef(format(span.context.trace_id, "032x"), format(span.context.span_id, "016x"))


# --- streams are the SDK's own objects ------------------------------------------------------------------


def test_sync_streams_are_sdk_streams(instrumented: Telemetry, server: LoopbackAPI) -> None:
    client = _client(server)
    chat = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    responses = client.responses.create(model="gpt-4.1-mini", input="Greet me", stream=True)
    for stream in (chat, responses):
        assert isinstance(stream, openai.Stream)
        assert type(stream) is openai.Stream
        assert stream.response.status_code == 200
        assert stream.response.headers["x-request-id"] == "req_tap7c0ffee"
        assert stream.response.headers["content-type"] == "text/event-stream"
    chunks = list(chat)
    events = list(responses)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks) == TEXT
    assert [event.type for event in events][-1] == "response.completed"
    first, second = instrumented.genai_spans()
    assert llmtap.span_of(chat) == _ref(first)
    assert llmtap.span_of(responses) == _ref(second)


async def test_async_streams_are_sdk_streams(instrumented: Telemetry, server: LoopbackAPI) -> None:
    client = _aclient(server)
    chat = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    responses = await client.responses.create(model="gpt-4.1-mini", input="Greet me", stream=True)
    for stream in (chat, responses):
        assert type(stream) is openai.AsyncStream
        assert stream.response.headers["x-request-id"] == "req_tap7c0ffee"
    assert "".join([chunk.choices[0].delta.content or "" async for chunk in chat]) == TEXT
    assert [event.type async for event in responses][-1] == "response.completed"
    first, second = instrumented.genai_spans()
    assert llmtap.span_of(chat) == _ref(first)
    assert llmtap.span_of(responses) == _ref(second)


def test_plain_responses_are_sdk_models(instrumented: Telemetry, server: LoopbackAPI) -> None:
    client = _client(server)
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    response = client.responses.create(model="gpt-4.1-mini", input="Greet me")
    assert type(completion) is ChatCompletion
    assert completion.model_dump(exclude_unset=True) == wire.chat_completion(TEXT)
    assert type(response) is Response
    assert response.output_text == TEXT
    first, second = instrumented.genai_spans()
    assert llmtap.span_of(completion) == _ref(first)
    assert llmtap.span_of(response) == _ref(second)


# --- with_raw_response ---------------------------------------------------------------------------------------


def test_with_raw_response_chat_and_responses(instrumented: Telemetry, server: LoopbackAPI) -> None:
    client = _client(server)
    raw_chat = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    raw_responses = client.responses.with_raw_response.create(model="gpt-4.1-mini", input="Greet me")
    assert raw_chat.headers["x-request-id"] == "req_tap7c0ffee"
    assert raw_responses.headers["openai-processing-ms"] == "42"
    assert raw_chat.http_response.status_code == 200
    assert instrumented.genai_spans() == []  # recorded when parsed

    completion = raw_chat.parse()
    response = raw_responses.parse()

    assert type(completion) is ChatCompletion
    assert completion.choices[0].message.content == TEXT
    assert response.output_text == TEXT
    first, second = instrumented.genai_spans()
    assert attribute_json(first, gen_ai.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": TEXT}]
    assert second.attributes[gen_ai.GEN_AI_RESPONSE_ID] == "resp_tap0001"
    assert llmtap.span_of(completion) == llmtap.span_of(raw_chat) == _ref(first)
    assert llmtap.span_of(response) == llmtap.span_of(raw_responses) == _ref(second)


def test_with_raw_response_streamed(instrumented: Telemetry, server: LoopbackAPI) -> None:
    client = _client(server)
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    assert raw.headers["x-request-id"] == "req_tap7c0ffee"
    stream = raw.parse()
    assert type(stream) is openai.Stream
    assert "".join(chunk.choices[0].delta.content or "" for chunk in stream) == TEXT
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "completed"
    assert llmtap.span_of(stream) == _ref(span)


async def test_async_with_raw_response(instrumented: Telemetry, server: LoopbackAPI) -> None:
    raw = await _aclient(server).responses.with_raw_response.create(model="gpt-4.1-mini", input="Greet me")
    assert raw.headers["x-request-id"] == "req_tap7c0ffee"
    response = raw.parse()
    assert response.output_text == TEXT
    assert llmtap.span_of(response) == _ref(instrumented.only_span())


# --- with_streaming_response ----------------------------------------------------------------------------------


def test_with_streaming_response_parse(instrumented: Telemetry, server: LoopbackAPI) -> None:
    client = _client(server)
    with client.chat.completions.with_streaming_response.create(model="gpt-4o-mini", messages=MESSAGES) as raw:
        assert raw.headers["x-request-id"] == "req_tap7c0ffee"
        completion = raw.parse()
    with client.responses.with_streaming_response.create(model="gpt-4.1-mini", input="Greet me") as raw_responses:
        response = raw_responses.parse()
    assert type(completion) is ChatCompletion
    assert completion.choices[0].message.content == TEXT
    assert response.output_text == TEXT
    first, second = instrumented.genai_spans()
    assert llmtap.span_of(completion) == _ref(first)
    assert llmtap.span_of(response) == _ref(second)
    assert first.attributes[gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS] == 5


def test_with_streaming_response_stream_parse(instrumented: Telemetry, server: LoopbackAPI) -> None:
    client = _client(server)
    with client.responses.with_streaming_response.create(model="gpt-4.1-mini", input="Greet me", stream=True) as raw:
        stream = raw.parse()
        assert type(stream) is openai.Stream
        events = [event.type for event in stream]
    assert events[-1] == "response.completed"
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "completed"
    assert attribute_json(span, gen_ai.GEN_AI_OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": TEXT}]


def test_with_streaming_response_iter_lines(instrumented: Telemetry, server: LoopbackAPI) -> None:
    client = _client(server)
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as raw:
        lines = [line for line in raw.iter_lines() if line]
        assert instrumented.genai_spans() == []  # still open while the app reads the body
    expected = [*(sse_bytes(chunk).decode().strip() for chunk in wire.chat_chunks(PIECES)), "data: [DONE]"]
    assert lines == expected
    span = instrumented.only_span()  # never parsed: metadata only, ended when the `with` closed the response
    assert span.attributes[gen_ai.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    assert "llmtap.stream.outcome" not in span.attributes  # llmtap never saw the chunks
    assert gen_ai.GEN_AI_OUTPUT_MESSAGES not in span.attributes


# --- stream helpers ------------------------------------------------------------------------------------------------


def test_chat_stream_helper_methods(instrumented: Telemetry, server: LoopbackAPI) -> None:
    client = _client(server)
    with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        deltas = []
        snapshots = []
        for event in stream:
            if event.type == "content.delta":
                deltas.append(event.delta)
                snapshots.append(stream.current_completion_snapshot.choices[0].message.content)
        final = stream.get_final_completion()
    assert deltas == ["", *PIECES]  # the first chunk's empty content is a delta too
    assert snapshots == ["", "Hello", TEXT]
    assert final.choices[0].message.content == TEXT
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "completed"
    assert llmtap.span_of(stream) == llmtap.span_of(final) == _ref(span)


def test_chat_stream_helper_until_done(instrumented: Telemetry, server: LoopbackAPI) -> None:
    with _client(server).chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        assert stream.until_done() is stream
        assert stream.current_completion_snapshot.choices[0].message.content == TEXT
    assert instrumented.only_span().attributes["llmtap.stream.outcome"] == "completed"


def test_responses_stream_helper_methods(instrumented: Telemetry, server: LoopbackAPI) -> None:
    with _client(server).responses.stream(model="gpt-4.1-mini", input="Greet me") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert deltas == PIECES
    assert final.output_text == TEXT
    span = instrumented.only_span()
    assert span.attributes[gen_ai.GEN_AI_USAGE_INPUT_TOKENS] == 14
    assert llmtap.span_of(stream) == llmtap.span_of(final) == _ref(span)


async def test_async_stream_helpers(instrumented: Telemetry, server: LoopbackAPI) -> None:
    client = _aclient(server)
    async with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as chat:
        completion = await chat.get_final_completion()
    async with client.responses.stream(model="gpt-4.1-mini", input="Greet me") as responses:
        assert await responses.until_done() is responses
        response = await responses.get_final_response()
    assert completion.choices[0].message.content == TEXT
    assert response.output_text == TEXT
    first, second = instrumented.genai_spans()
    assert llmtap.span_of(chat) == llmtap.span_of(completion) == _ref(first)
    assert llmtap.span_of(responses) == llmtap.span_of(response) == _ref(second)
    assert [first.attributes["llmtap.stream.outcome"], second.attributes["llmtap.stream.outcome"]] == [
        "completed",
        "completed",
    ]


def test_span_of_unrelated_object_is_none(instrumented: Telemetry) -> None:
    assert llmtap.span_of(ChatCompletion.construct(**wire.chat_completion(TEXT))) is None
    assert llmtap.span_of(object()) is None
