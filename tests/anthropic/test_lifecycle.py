"""The stream-lifecycle contract through a loopback server: every exit path ends the span exactly once."""

from __future__ import annotations

import asyncio
import gc
import threading

import httpx2
import pytest
from opentelemetry.trace import StatusCode

import anthropic
from tests.anthropic.conftest import API_KEY
from tests.support import anthropic_wire as wire
from tests.support.anthropic_wire import MODEL
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry, attribute_json

FINAL = wire.message([{"type": "text", "text": "abcdefghij"}], id="msg_01Life")
EVENTS = wire.stream_events(FINAL, pieces=5)  # start, block start, ping, 5 deltas, stop, delta, stop
REQUEST = {"max_tokens": 64, "messages": [{"role": "user", "content": "letters"}], "model": MODEL}


def serve(api: LoopbackAPI, **reply: object) -> None:
    api.route("POST", "/v1/messages", Reply(events=EVENTS, done_marker=False, **reply))


def client(api: LoopbackAPI) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=API_KEY, base_url=api.base_url, max_retries=0)


def aclient(api: LoopbackAPI) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key=API_KEY, base_url=api.base_url, max_retries=0)


def partial_text(span: object) -> str:
    return attribute_json(span, "gen_ai.output.messages")[0]["parts"][0]["content"]


def test_break_then_close(instrumented: Telemetry, api: LoopbackAPI) -> None:
    serve(api)
    stream = client(api).messages.create(**REQUEST, stream=True)
    for event in stream:
        if event.type == "content_block_delta":
            break
    assert instrumented.genai_spans() == []
    stream.close()
    stream.close()
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "abandoned"
    assert partial_text(span) == "ab"
    assert span.attributes["gen_ai.response.id"] == "msg_01Life"
    assert span.attributes["gen_ai.usage.input_tokens"] == 12


def test_leaving_the_stream_helper_early(instrumented: Telemetry, api: LoopbackAPI) -> None:
    serve(api)
    with client(api).messages.stream(**REQUEST) as stream:
        for text in stream.text_stream:
            assert text == "ab"
            break
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "abandoned"
    assert partial_text(span) == "ab"


def test_exception_inside_the_helper_block(instrumented: Telemetry, api: LoopbackAPI) -> None:
    serve(api)
    with pytest.raises(KeyError), client(api).messages.stream(**REQUEST) as stream:
        next(iter(stream))
        raise KeyError("app bug")
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "error"
    assert span.attributes["error.type"] == "KeyError"
    assert span.status.status_code is StatusCode.ERROR


def test_exception_inside_a_raw_stream_block(instrumented: Telemetry, api: LoopbackAPI) -> None:
    serve(api)
    with pytest.raises(ValueError), client(api).messages.create(**REQUEST, stream=True) as stream:
        next(iter(stream))
        raise ValueError("app bug")
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "error"
    assert span.attributes["error.type"] == "ValueError"


def test_connection_dropped_mid_stream(instrumented: Telemetry, api: LoopbackAPI) -> None:
    serve(api, stop_after_events=5)
    stream = client(api).messages.create(**REQUEST, stream=True)
    with pytest.raises(httpx2.RemoteProtocolError):  # the SDK lets the transport's error through
        for _ in stream:
            pass
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "error"
    assert span.attributes["error.type"] == "RemoteProtocolError"
    assert partial_text(span) == "abcd"  # the two deltas among the five events sent
    assert attribute_json(span, "gen_ai.output.messages")[0]["finish_reason"] == "error"  # none arrived


def test_garbage_collected_stream(instrumented: Telemetry, api: LoopbackAPI) -> None:
    serve(api)
    stream = client(api).messages.create(**REQUEST, stream=True)
    next(iter(stream))
    del stream
    gc.collect()
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "abandoned"
    assert span.attributes["gen_ai.response.id"] == "msg_01Life"


def test_streaming_raw_response(instrumented: Telemetry, api: LoopbackAPI) -> None:
    serve(api)
    with client(api).messages.with_streaming_response.create(**REQUEST, stream=True) as raw:
        assert raw.headers["content-type"] == "text/event-stream"
        stream = raw.parse()
        assert isinstance(stream, anthropic.Stream)
        assert [event.type for event in stream][-1] == "message_stop"
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "completed"
    assert partial_text(span) == "abcdefghij"


async def test_async_cancelled(instrumented: Telemetry, api: LoopbackAPI) -> None:
    serve(api, delay_between_events=0.2)
    started = asyncio.Event()

    async def consume() -> None:
        async with aclient(api).messages.stream(**REQUEST) as stream:
            async for _ in stream:
                started.set()

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "cancelled"


async def test_async_raw_stream_exhausted(instrumented: Telemetry, api: LoopbackAPI) -> None:
    serve(api)
    stream = await aclient(api).messages.create(**REQUEST, stream=True)
    assert isinstance(stream, anthropic.AsyncStream)
    kinds = [event.type async for event in stream]
    assert kinds[0] == "message_start"
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "completed"
    assert partial_text(span) == "abcdefghij"


def test_concurrent_calls_keep_their_own_spans(instrumented: Telemetry, api: LoopbackAPI) -> None:
    def reply(request: object) -> Reply:
        text = request.body["messages"][0]["content"]
        final = wire.message([{"type": "text", "text": text.upper()}], id=f"msg_{text}")
        return Reply(events=wire.stream_events(final), done_marker=False, delay_between_events=0.01)

    api.route("POST", "/v1/messages", reply)
    sdk = client(api)
    errors: list[BaseException] = []

    def run(word: str) -> None:
        try:
            with sdk.messages.stream(**{**REQUEST, "messages": [{"role": "user", "content": word}]}) as stream:
                assert stream.get_final_text() == word.upper()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    words = [f"word{index}" for index in range(8)]
    threads = [threading.Thread(target=run, args=(word,)) for word in words]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    spans = instrumented.genai_spans()
    assert sorted(span.attributes["gen_ai.response.id"] for span in spans) == sorted(f"msg_{w}" for w in words)
    for span in spans:
        word = span.attributes["gen_ai.response.id"][4:]
        assert attribute_json(span, "gen_ai.input.messages")[0]["parts"][0]["content"] == word
        assert partial_text(span) == word.upper()
        assert span.parent is None
