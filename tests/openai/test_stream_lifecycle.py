"""Every way a stream can end, through the real openai SDK against the loopback server.

Matrix: exit path x sync/async x {chat.completions.create(stream=True), responses.create(stream=True),
chat.completions.stream(), responses.stream()}. Each case: exactly one span, ended once, the outcome
in `llmtap.stream.outcome`, the partial content kept, time to first chunk present iff a chunk arrived.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.trace import StatusCode

import openai
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry, attribute_json

PIECES = ["Hel", "lo", " wor", "ld"]
FULL = "Hello world"
PARTIAL = "Hello"  # everything up to and including the "lo" delta
MESSAGES = [{"role": "user", "content": "Say hello"}]
OUTCOME = "llmtap.stream.outcome"
TTFT = gen_ai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK


class ConsumerError(Exception):
    pass


@dataclass(frozen=True)
class Kind:
    name: str
    path: str
    helper: bool
    events: Callable[[], list[Any]]
    done_marker: bool
    create: Callable[[Any], Any]  # client -> Stream / AsyncStream (awaitable for async) or stream manager
    is_stop: Callable[[Any], bool]  # the item carrying the "lo" delta
    full_finish: str
    chat: bool

    def reply(self, **options: Any) -> Reply:
        return Reply(events=self.events(), done_marker=self.done_marker, **options)


def _chat_create(client: Any) -> Any:
    return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)


def _chat_helper(client: Any) -> Any:
    return client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES)


def _responses_create(client: Any) -> Any:
    return client.responses.create(model="gpt-4.1-mini", input="Say hello", stream=True)


def _responses_helper(client: Any) -> Any:
    return client.responses.stream(model="gpt-4.1-mini", input="Say hello")


def _chat_raw_stop(chunk: Any) -> bool:
    return bool(chunk.choices) and chunk.choices[0].delta.content == "lo"


def _chat_helper_stop(event: Any) -> bool:
    return event.type == "content.delta" and event.delta == "lo"


def _responses_stop(event: Any) -> bool:
    return event.type == "response.output_text.delta" and event.delta == "lo"


KINDS = [
    Kind(
        "chat",
        "/chat/completions",
        False,
        lambda: wire.chat_chunks(PIECES),
        True,
        _chat_create,
        _chat_raw_stop,
        "stop",
        True,
    ),
    Kind(
        "chat.stream()",
        "/chat/completions",
        True,
        lambda: wire.chat_chunks(PIECES),
        True,
        _chat_helper,
        _chat_helper_stop,
        "stop",
        True,
    ),
    Kind(
        "responses",
        "/responses",
        False,
        lambda: wire.response_events(PIECES),
        False,
        _responses_create,
        _responses_stop,
        "stop",
        False,
    ),
    Kind(
        "responses.stream()",
        "/responses",
        True,
        lambda: wire.response_events(PIECES),
        False,
        _responses_helper,
        _responses_stop,
        "stop",
        False,
    ),
]


@pytest.fixture(params=KINDS, ids=[kind.name for kind in KINDS])
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param


def _client(api: LoopbackAPI) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test-lifecycle", base_url=api.base_url + "/", max_retries=0)


def _aclient(api: LoopbackAPI) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key="sk-test-lifecycle", base_url=api.base_url + "/", max_retries=0)


def _open(kind: Kind, client: Any) -> Any:
    """The object the application iterates without a `with` block."""
    made = kind.create(client)
    return made.__enter__() if kind.helper else made


async def _aopen(kind: Kind, client: Any) -> Any:
    made = kind.create(client)
    return await made.__aenter__() if kind.helper else await made


async def _actx(kind: Kind, client: Any) -> Any:
    """What goes in `async with`: the manager of a helper, the awaited stream otherwise."""
    made = kind.create(client)
    return made if kind.helper else await made


def _output(kind: Kind, text: str, finish: str) -> list[dict[str, Any]]:
    return [{"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": finish}]


def _one_span(telemetry: Telemetry, caplog: pytest.LogCaptureFixture) -> ReadableSpan:
    """Exactly one llmtap span, ended exactly once (one export, one duration point, no double-end warning)."""
    span = telemetry.only_span()
    assert len(telemetry.spans()) == 1
    points = telemetry.metric_points("gen_ai.client.operation.duration")
    assert sum(point.count for point in points) == 1
    assert not [record for record in caplog.records if "ended span" in record.getMessage()]
    assert span.attributes[gen_ai.GEN_AI_OPERATION_NAME] == "chat"
    assert span.attributes[gen_ai.GEN_AI_REQUEST_STREAM] is True
    return span


def _assert_completed(kind: Kind, span: ReadableSpan) -> None:
    assert span.attributes[OUTCOME] == "completed"
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes[TTFT] > 0
    assert attribute_json(span, gen_ai.GEN_AI_OUTPUT_MESSAGES) == _output(kind, FULL, "stop")
    assert span.attributes[gen_ai.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    expected_id = "chatcmpl-CXtap0002" if kind.chat else "resp_tap0002"
    assert span.attributes[gen_ai.GEN_AI_RESPONSE_ID] == expected_id


def _assert_partial(kind: Kind, span: ReadableSpan, outcome: str) -> None:
    assert span.attributes[OUTCOME] == outcome
    assert span.attributes[TTFT] > 0
    # no finish reason arrived: an abandoned stream's is empty, a failed one's the conventions' `error`
    reason = "error" if outcome == "error" else ""
    assert attribute_json(span, gen_ai.GEN_AI_OUTPUT_MESSAGES) == _output(kind, PARTIAL, reason)
    assert gen_ai.GEN_AI_RESPONSE_FINISH_REASONS not in span.attributes


def _assert_untouched(span: ReadableSpan, outcome: str) -> None:
    assert span.attributes[OUTCOME] == outcome
    assert TTFT not in span.attributes
    assert gen_ai.GEN_AI_OUTPUT_MESSAGES not in span.attributes


async def _acollect() -> None:
    """Collect garbage the asyncio way: a suspended `async for` keeps its stream alive until the loop has
    run the `aclose()` that its async-generator finaliser scheduled; then the stream itself is garbage."""
    for _ in range(4):
        gc.collect()
        await asyncio.sleep(0)


@pytest.fixture
def caplog_warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING)
    return caplog


# --- exhausted ---------------------------------------------------------------------------------------


def test_exhausted_sync(kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any) -> None:
    api.route("POST", kind.path, kind.reply())
    items = list(_open(kind, _client(api)))
    assert any(kind.is_stop(item) for item in items)
    _assert_completed(kind, _one_span(instrumented, caplog_warnings))


async def test_exhausted_async(kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any) -> None:
    api.route("POST", kind.path, kind.reply())
    stream = await _aopen(kind, _aclient(api))
    items = [item async for item in stream]
    assert any(kind.is_stop(item) for item in items)
    _assert_completed(kind, _one_span(instrumented, caplog_warnings))


# --- break, then close() ------------------------------------------------------------------------------


def test_break_then_close_sync(kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any) -> None:
    api.route("POST", kind.path, kind.reply())
    stream = _open(kind, _client(api))
    for item in stream:
        if kind.is_stop(item):
            break
    assert instrumented.genai_spans() == []  # still open: the application may go on reading
    stream.close()
    _assert_partial(kind, _one_span(instrumented, caplog_warnings), "abandoned")


async def test_break_then_close_async(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, kind.reply())
    stream = await _aopen(kind, _aclient(api))
    async for item in stream:
        if kind.is_stop(item):
            break
    assert instrumented.genai_spans() == []
    await stream.close()
    _assert_partial(kind, _one_span(instrumented, caplog_warnings), "abandoned")


# --- leaving a `with` block early ----------------------------------------------------------------------


def test_with_block_left_early_sync(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, kind.reply())
    with kind.create(_client(api)) as stream:
        for item in stream:
            if kind.is_stop(item):
                break
    _assert_partial(kind, _one_span(instrumented, caplog_warnings), "abandoned")


async def test_with_block_left_early_async(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, kind.reply())
    async with await _actx(kind, _aclient(api)) as stream:
        async for item in stream:
            if kind.is_stop(item):
                break
    _assert_partial(kind, _one_span(instrumented, caplog_warnings), "abandoned")


def test_consumer_generator_closed_early_inside_with_sync(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    """The app's own generator reads the stream in a `with` and is closed early: GeneratorExit is no failure."""
    api.route("POST", kind.path, kind.reply())

    def relay() -> Any:
        with kind.create(_client(api)) as stream:
            yield from stream

    items = relay()
    for item in items:
        if kind.is_stop(item):
            break
    items.close()
    span = _one_span(instrumented, caplog_warnings)
    _assert_partial(kind, span, "abandoned")
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in span.attributes


async def test_consumer_generator_closed_early_inside_with_async(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, kind.reply())

    async def relay() -> Any:
        async with await _actx(kind, _aclient(api)) as stream:
            async for item in stream:
                yield item

    items = relay()
    async for item in items:
        if kind.is_stop(item):
            break
    await items.aclose()
    span = _one_span(instrumented, caplog_warnings)
    _assert_partial(kind, span, "abandoned")
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in span.attributes


# --- garbage collection --------------------------------------------------------------------------------


def test_unconsumed_stream_collected_sync(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, kind.reply())
    stream = _open(kind, _client(api))
    assert instrumented.genai_spans() == []
    del stream
    gc.collect()
    _assert_untouched(_one_span(instrumented, caplog_warnings), "abandoned")


def test_partly_consumed_stream_collected_sync(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, kind.reply())
    stream = _open(kind, _client(api))
    for item in stream:
        if kind.is_stop(item):
            break
    del stream, item
    gc.collect()
    _assert_partial(kind, _one_span(instrumented, caplog_warnings), "abandoned")


async def test_unconsumed_stream_collected_async(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, kind.reply())
    stream = await _aopen(kind, _aclient(api))
    del stream
    gc.collect()
    _assert_untouched(_one_span(instrumented, caplog_warnings), "abandoned")


async def test_partly_consumed_stream_collected_async(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, kind.reply())
    stream = await _aopen(kind, _aclient(api))
    async for item in stream:
        if kind.is_stop(item):
            break
    del stream, item
    await _acollect()
    _assert_partial(kind, _one_span(instrumented, caplog_warnings), "abandoned")


# --- the consumer raises ---------------------------------------------------------------------------------


def test_consumer_raises_inside_with_sync(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, kind.reply())
    with pytest.raises(ConsumerError):
        with kind.create(_client(api)) as stream:
            for item in stream:
                if kind.is_stop(item):
                    raise ConsumerError("the application failed")
    span = _one_span(instrumented, caplog_warnings)
    _assert_partial(kind, span, "error")
    assert span.attributes["error.type"] == "ConsumerError"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "the application failed"


async def test_consumer_raises_inside_with_async(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, kind.reply())
    with pytest.raises(ConsumerError):
        async with await _actx(kind, _aclient(api)) as stream:
            async for item in stream:
                if kind.is_stop(item):
                    raise ConsumerError("the application failed")
    span = _one_span(instrumented, caplog_warnings)
    _assert_partial(kind, span, "error")
    assert span.attributes["error.type"] == "ConsumerError"
    assert span.status.status_code is StatusCode.ERROR


def test_bare_for_raises_then_collected_sync(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, kind.reply())
    stream = _open(kind, _client(api))
    with pytest.raises(ConsumerError):
        for item in stream:
            if kind.is_stop(item):
                raise ConsumerError("the application failed")
    assert instrumented.genai_spans() == []  # llmtap cannot see an exception outside any `with`
    del stream, item
    gc.collect()
    _assert_partial(kind, _one_span(instrumented, caplog_warnings), "abandoned")


async def test_bare_for_raises_then_collected_async(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, kind.reply())
    stream = await _aopen(kind, _aclient(api))
    with pytest.raises(ConsumerError):
        async for item in stream:
            if kind.is_stop(item):
                raise ConsumerError("the application failed")
    del stream, item
    await _acollect()
    _assert_partial(kind, _one_span(instrumented, caplog_warnings), "abandoned")


# --- the server breaks the connection ---------------------------------------------------------------------


def _broken_reply(kind: Kind) -> Reply:
    events = kind.events()
    if kind.chat:
        cut = next(i for i, chunk in enumerate(events) if chunk["choices"][0]["delta"].get("content") == "lo") + 1
    else:
        cut = next(i for i, (_, event) in enumerate(events) if event.get("delta") == "lo") + 1
    return Reply(events=events, done_marker=kind.done_marker, stop_after_events=cut)


def test_server_breaks_connection_sync(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, _broken_reply(kind))
    stream = _open(kind, _client(api))
    seen = []
    with pytest.raises(openai.APIConnectionError) as caught:
        for item in stream:
            seen.append(item)
    assert any(kind.is_stop(item) for item in seen)
    span = _one_span(instrumented, caplog_warnings)
    _assert_partial(kind, span, "error")
    assert span.attributes["error.type"] == "APIConnectionError"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == str(caught.value)


async def test_server_breaks_connection_async(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, _broken_reply(kind))
    stream = await _aopen(kind, _aclient(api))
    seen = []
    with pytest.raises(openai.APIConnectionError):
        async for item in stream:
            seen.append(item)
    assert any(kind.is_stop(item) for item in seen)
    span = _one_span(instrumented, caplog_warnings)
    _assert_partial(kind, span, "error")
    assert span.attributes["error.type"] == "APIConnectionError"


# --- asyncio cancellation -----------------------------------------------------------------------------------


async def test_cancelled_while_consuming(
    kind: Kind, instrumented: Telemetry, api: LoopbackAPI, caplog_warnings: Any
) -> None:
    api.route("POST", kind.path, kind.reply(delay_between_events=0.3))
    reached = asyncio.Event()

    async def consume() -> None:
        stream = await _aopen(kind, _aclient(api))
        async for item in stream:
            if kind.is_stop(item):
                reached.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(reached.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = _one_span(instrumented, caplog_warnings)
    _assert_partial(kind, span, "cancelled")
    assert "error.type" not in span.attributes
