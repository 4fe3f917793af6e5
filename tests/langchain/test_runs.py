from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool

from tests.langchain.support import named, tree
from tests.support.telemetry import Telemetry, attribute_json


@tool
def weather(city: str) -> str:
    """Current weather of a city."""
    return f"sunny in {city}"


@tool
def broken(city: str) -> str:
    """Always fails."""
    raise RuntimeError(f"no data for {city}")


def agent_loop(model: GenericFakeChatModel, tools: list) -> RunnableLambda:
    by_name = {t.name: t for t in tools}

    def run(question: str) -> str:
        history = [HumanMessage(question)]
        while True:
            reply = model.invoke(history)
            history.append(reply)
            if not reply.tool_calls:
                return reply.content
            for call in reply.tool_calls:
                history.append(by_name[call["name"]].invoke(call))

    return RunnableLambda(run).with_config(run_name="agent", metadata={"lc_agent_name": "weather_agent"})


def test_tool_calling_agent_loop(instrumented: Telemetry) -> None:
    call = {"name": "weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
    model = GenericFakeChatModel(messages=iter([AIMessage(content="", tool_calls=[call]), AIMessage(content="Sunny.")]))

    assert agent_loop(model, [weather]).invoke("Weather in Paris?") == "Sunny."

    spans = instrumented.genai_spans()
    assert tree(spans) == [("invoke_agent weather_agent", ["chat", "execute_tool weather", "chat"])]
    agent = named(spans, "invoke_agent weather_agent")
    assert agent.attributes["gen_ai.agent.name"] == "weather_agent"
    assert agent.attributes["gen_ai.operation.name"] == "invoke_agent"
    tool_span = named(spans, "execute_tool weather")
    assert tool_span.attributes["gen_ai.tool.name"] == "weather"
    assert tool_span.attributes["gen_ai.tool.call.id"] == "call_1"
    assert tool_span.attributes["gen_ai.tool.description"] == "Current weather of a city."
    assert attribute_json(tool_span, "gen_ai.tool.call.arguments") == {"city": "Paris"}
    assert attribute_json(tool_span, "gen_ai.tool.call.result") == "sunny in Paris"
    first, second = sorted((s for s in spans if s.name == "chat"), key=lambda s: s.start_time)
    assert attribute_json(first, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_1", "name": "weather", "arguments": {"city": "Paris"}}],
            "finish_reason": "stop",
        }
    ]
    assert attribute_json(second, "gen_ai.input.messages")[-1] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_1", "response": "sunny in Paris"}],
    }


def test_exception_inside_a_tool_marks_tool_and_agent(instrumented: Telemetry) -> None:
    call = {"name": "broken", "args": {"city": "Oslo"}, "id": "call_9", "type": "tool_call"}
    model = GenericFakeChatModel(messages=iter([AIMessage(content="", tool_calls=[call])]))

    with pytest.raises(RuntimeError, match="no data for Oslo"):
        agent_loop(model, [broken]).invoke("Weather in Oslo?")

    spans = instrumented.genai_spans()
    assert tree(spans) == [("invoke_agent weather_agent", ["chat", "execute_tool broken"])]
    for name in ("execute_tool broken", "invoke_agent weather_agent"):
        span = named(spans, name)
        assert span.attributes["error.type"] == "RuntimeError"
        assert span.status.description == "no data for Oslo"
    assert named(spans, "chat").status.is_ok


def _echo_chain() -> RunnableLambda:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="one"), AIMessage(content="two")]))
    return (RunnableLambda(lambda q: q).with_config(run_name="prep") | model).with_config(run_name="ask")


def test_batch_runs_are_separate_traces(instrumented: Telemetry) -> None:
    results = _echo_chain().batch(["a", "b"])

    assert sorted(r.content for r in results) == ["one", "two"]
    spans = instrumented.genai_spans()
    assert tree(spans) == [
        ("invoke_workflow ask", ["invoke_workflow prep", "chat"]),
        ("invoke_workflow ask", ["invoke_workflow prep", "chat"]),
    ]
    assert len({span.context.trace_id for span in spans}) == 2
    for root in (s for s in spans if s.parent is None):
        assert {s.context.trace_id for s in spans if s.context.trace_id == root.context.trace_id} == {
            root.context.trace_id
        }
        assert len([s for s in spans if s.context.trace_id == root.context.trace_id]) == 3


async def test_async_batch_and_ainvoke_stay_in_their_traces(instrumented: Telemetry) -> None:
    results = await _echo_chain().abatch(["a", "b"])

    assert sorted(r.content for r in results) == ["one", "two"]
    spans = instrumented.genai_spans()
    assert tree(spans) == [
        ("invoke_workflow ask", ["invoke_workflow prep", "chat"]),
        ("invoke_workflow ask", ["invoke_workflow prep", "chat"]),
    ]
    traces = {span.context.trace_id for span in spans}
    assert len(traces) == 2
    for trace_id in traces:
        assert sorted(s.name for s in spans if s.context.trace_id == trace_id) == [
            "chat",
            "invoke_workflow ask",
            "invoke_workflow prep",
        ]


async def test_astream_keeps_chunks_and_records_time_to_first_chunk(instrumented: Telemetry) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="hello big world")]))
    chain = (RunnableLambda(lambda q: q).with_config(run_name="prep") | model).with_config(run_name="ask")

    chunks = [chunk.content async for chunk in chain.astream("hi")]

    assert "".join(chunks) == "hello big world"
    assert len(chunks) > 1
    spans = instrumented.genai_spans()
    assert tree(spans) == [("invoke_workflow ask", ["invoke_workflow prep", "chat"])]
    chat = named(spans, "chat")
    assert chat.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    assert attribute_json(chat, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "hello big world"}], "finish_reason": "stop"}
    ]


def test_sync_stream_leaves_no_span_current_between_chunks(instrumented: Telemetry) -> None:
    from opentelemetry import trace

    model = GenericFakeChatModel(messages=iter([AIMessage(content="a b c")]))
    seen = []
    for chunk in model.stream("hi"):
        seen.append((chunk.content, trace.get_current_span().get_span_context().is_valid))

    assert [content for content, _ in seen if content] == ["a", " ", "b", " ", "c"]
    assert {current for _, current in seen} == {False}
    assert tree(instrumented.genai_spans()) == ["chat"]


@pytest.mark.parametrize(
    ("metadata", "raw", "semconv"),
    [
        ({"finish_reason": "stop"}, "stop", "stop"),  # OpenAI
        ({"finish_reason": "length"}, "length", "length"),
        ({"finish_reason": "tool_calls"}, "tool_calls", "tool_call"),
        ({"finish_reason": "content_filter"}, "content_filter", "content_filter"),
        ({"stop_reason": "end_turn"}, "end_turn", "stop"),  # Anthropic
        ({"stop_reason": "max_tokens"}, "max_tokens", "length"),
        ({"stop_reason": "tool_use"}, "tool_use", "tool_call"),
        ({"stop_reason": "refusal"}, "refusal", "content_filter"),
        ({"finish_reason": "STOP"}, "STOP", "stop"),  # Google
        ({"finish_reason": "MAX_TOKENS"}, "MAX_TOKENS", "length"),
        ({"finish_reason": "SAFETY"}, "SAFETY", "content_filter"),
        ({"finish_reason": "MALFORMED_FUNCTION_CALL"}, "MALFORMED_FUNCTION_CALL", "error"),
        ({"finish_reason": "pause_turn"}, "pause_turn", "pause_turn"),  # unknown: kept as it is
    ],
)
def test_finish_reasons_raw_on_the_span_semconv_in_the_output_messages(
    instrumented: Telemetry, metadata: dict[str, str], raw: str, semconv: str
) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="ok", response_metadata=metadata)]))

    model.invoke("hi")

    span = instrumented.only_span()
    assert span.attributes["gen_ai.response.finish_reasons"] == (raw,)
    assert attribute_json(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "ok"}], "finish_reason": semconv}
    ]


def test_with_content_off_a_failing_tool_and_chain_reveal_only_the_error_type(
    telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llmtap

    monkeypatch.delenv("LLMTAP_CAPTURE_CONTENT", raising=False)
    llmtap.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        config={},
        capture_content=False,
    )
    try:

        @tool
        def bad_tool(secret: str) -> str:
            """Fails, quoting its argument."""
            raise ValueError(f"cannot use {secret}")

        chain = RunnableLambda(lambda text: bad_tool.invoke({"secret": text}))
        with pytest.raises(ValueError):
            chain.invoke("SECRET-ARGUMENT")
    finally:
        llmtap.uninstrument()
    spans = {span.name: span for span in telemetry.spans()}
    assert sorted(spans) == ["execute_tool bad_tool", "invoke_workflow RunnableLambda"]
    for span in spans.values():
        assert span.status.description == "ValueError"
        assert span.attributes["error.type"] == "ValueError"
    assert "SECRET" not in telemetry.everything_exported()
