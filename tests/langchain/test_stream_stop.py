"""A LangChain stream its consumer stops is no failure: closed early it is `abandoned`, its task cancelled it is
`cancelled`; neither sets an error status, and the output that arrived is kept (as the stream core does).
"""

from __future__ import annotations

import asyncio

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda
from langchain_openai import ChatOpenAI
from opentelemetry.trace import StatusCode

from tests.langchain.support import tree
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry, attribute_json

KEY = "sk-test-000000"


def partial(text: str) -> list[dict]:
    """The output of a stream stopped midway: what arrived, and no finish reason (none arrived)."""
    return [{"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": ""}]


def check_stopped(span, outcome: str, output: str) -> None:
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in span.attributes
    assert span.attributes["llmtap.stream.outcome"] == outcome
    assert attribute_json(span, "gen_ai.output.messages") == partial(output)
    assert span.attributes["gen_ai.response.time_to_first_chunk"] >= 0


async def model_span(telemetry: Telemetry):
    """The one model span of a ChatOpenAI call: the SDK's, with the LangChain run's facts (`llmtap.layers`).
    langchain-openai's inner async generator is closed by asyncio's async-generator finalizer, on a later
    turn of the loop: the SDK span ends then."""
    for _ in range(100):
        if telemetry.genai_spans():
            break
        await asyncio.sleep(0.01)
    span = telemetry.only_span()
    assert span.attributes["gen_ai.request.stream"] is True  # the SDK's span
    assert span.attributes["llmtap.langchain.model_class"] == "ChatOpenAI"
    return span


def chat_openai(api: LoopbackAPI) -> ChatOpenAI:
    return ChatOpenAI(model="gpt-4o-mini", api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0)


def test_closing_a_model_stream_early_is_abandoned_with_its_partial_output(instrumented: Telemetry) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="one two three four")]))

    stream = model.stream("hi")
    assert [next(stream).content, next(stream).content] == ["one", " "]
    stream.close()

    check_stopped(instrumented.only_span(), "abandoned", "one ")


def test_breaking_out_of_a_chain_stream_is_no_error_anywhere(instrumented: Telemetry) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="one two three four")]))
    chain = (RunnableLambda(lambda q: q, name="prep") | model).with_config(run_name="ask")

    stream = chain.stream("hi")
    for index, _chunk in enumerate(stream):
        if index == 2:
            break
    stream.close()

    spans = instrumented.genai_spans()
    assert tree(spans) == [("invoke_workflow ask", ["invoke_workflow prep", "chat"])]
    for span in spans:
        assert span.status.status_code is StatusCode.UNSET, span.name
        assert "error.type" not in span.attributes
    check_stopped(next(span for span in spans if span.name == "chat"), "abandoned", "one two")


def test_chat_openai_stream_closed_early_is_abandoned(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/v1/chat/completions", Reply(events=wire.chat_chunks(["Hel", "lo", " there", "!"])))

    stream = chat_openai(api).stream("hello")
    for index, _chunk in enumerate(stream):
        if index == 2:
            break
    stream.close()

    span = instrumented.only_span()
    assert span.name == "chat gpt-4o-mini"
    assert "llmtap.langchain.run_id" in span.attributes
    check_stopped(span, "abandoned", "Hello")


async def test_chat_openai_astream_closed_early_is_abandoned(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/v1/chat/completions", Reply(events=wire.chat_chunks(["Hel", "lo", " there", "!"])))

    stream = chat_openai(api).astream("hello")
    chunks = []
    async for chunk in stream:
        chunks.append(chunk.content)
        if len(chunks) == 3:
            break
    await stream.aclose()

    assert chunks == ["", "Hel", "lo"]
    check_stopped(await model_span(instrumented), "abandoned", "Hello")


async def test_astream_closed_before_any_content_has_no_output_message(
    instrumented: Telemetry, api: LoopbackAPI
) -> None:
    api.route("POST", "/v1/chat/completions", Reply(events=wire.chat_chunks(["Hel", "lo"])))

    stream = chat_openai(api).astream("hello")
    assert (await anext(stream)).content == ""  # the role-only first chunk
    await stream.aclose()

    span = await model_span(instrumented)
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes["llmtap.stream.outcome"] == "abandoned"
    assert "gen_ai.output.messages" not in span.attributes


async def test_cancelling_the_task_reading_an_astream_is_cancelled(instrumented: Telemetry, api: LoopbackAPI) -> None:
    events = wire.chat_chunks(["a", "b", "c", "d", "e"])
    api.route("POST", "/v1/chat/completions", Reply(events=events, delay_between_events=0.2))
    model = chat_openai(api)
    seen: list[str] = []
    got_a = asyncio.Event()

    async def consume() -> None:
        async for chunk in model.astream("hi"):
            seen.append(str(chunk.content))
            if chunk.content == "a":
                got_a.set()

    task = asyncio.create_task(consume())
    await got_a.wait()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass

    assert task.cancelled()
    assert seen == ["", "a"]
    span = await model_span(instrumented)
    check_stopped(span, "cancelled", "a")
    assert span.attributes["llmtap.cancelled"] is True


def test_a_stream_that_fails_is_still_an_error(instrumented: Telemetry, api: LoopbackAPI) -> None:
    events = wire.chat_chunks(["Hel", "lo", " there"])
    api.route("POST", "/v1/chat/completions", Reply(events=events, stop_after_events=3, done_marker=False))

    chunks = []
    try:
        for chunk in chat_openai(api).stream("hello"):
            chunks.append(chunk.content)
    except Exception as exc:
        failure = exc
    else:
        raise AssertionError("the stream did not fail")

    assert chunks == ["", "Hel", "lo"]
    span = instrumented.only_span()  # the SDK's, which saw the stream fail (langchain-openai re-raises it wrapped)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "APIConnectionError"
    assert type(failure).__qualname__ == "OpenAIConnectionError"
    assert span.attributes["llmtap.stream.outcome"] == "error"


async def test_a_cancelled_ainvoke_ends_its_span_and_leaves_no_open_run(
    instrumented: Telemetry, api: LoopbackAPI
) -> None:
    """LangChain reports no end for a model call whose task is cancelled: llmtap ends the run itself."""
    from llmtap_langchain import LangChainInstrumentor

    events = wire.chat_chunks(["a", "b", "c"])
    api.route("POST", "/v1/chat/completions", Reply(events=events, delay_between_events=0.2))
    model = ChatOpenAI(model="gpt-4o-mini", api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0, streaming=True)

    task = asyncio.create_task(model.ainvoke("hi"))
    for _ in range(200):  # until the first chunk has arrived
        if any(span.name.startswith("chat") for span in instrumented.spans()) or api.requests:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass

    span = await model_span(instrumented)
    assert span.name == "chat gpt-4o-mini"
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes["llmtap.stream.outcome"] == "cancelled"
    assert span.attributes["llmtap.cancelled"] is True
    assert len(LangChainInstrumentor().langchain_handler._runs) == 0  # no run left open


async def test_closing_an_astream_events_early_is_no_error_anywhere(instrumented: Telemetry) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="one two three four")]))
    chain = RunnableLambda(lambda text: text) | model

    events = chain.astream_events("hi", version="v2")
    async for event in events:
        if event["event"] == "on_chat_model_stream":
            break
    await events.aclose()
    for _ in range(50):
        await asyncio.sleep(0.01)

    spans = instrumented.spans()
    assert spans  # the chain, its steps and the model all ended
    for span in spans:
        assert span.status.status_code is StatusCode.UNSET, (span.name, span.status.description)
        assert "error.type" not in span.attributes
