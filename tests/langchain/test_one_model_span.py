"""One API call, one model span (`llmtap.layers`), whatever wraps it: a LangGraph agent's tool rounds, the
manual API, decorators. Each test asserts the whole span tree and the sum of `gen_ai.usage.input_tokens` over
every span of the trace (what a backend bills)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from openai.types.chat import ChatCompletion

import llmtap
import openai
from tests.langchain.support import named, tree
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply, Request
from tests.support.telemetry import Telemetry
from tests.support.wire import check

KEY = "sk-test-000000"


def usage_sum(telemetry: Telemetry) -> int:
    return sum(span.attributes.get("gen_ai.usage.input_tokens", 0) for span in telemetry.spans())


def usage_spans(telemetry: Telemetry) -> list[str]:
    return sorted(span.name for span in telemetry.spans() if "gen_ai.usage.input_tokens" in span.attributes)


def tool_call_completion(city: str, prompt_tokens: int) -> dict[str, Any]:
    body = wire.chat_completion("", completion_id="chatcmpl-CXtap0010", finish_reason="tool_calls")
    body["choices"][0]["message"].update(
        content=None,
        tool_calls=[
            {
                "id": "call_W1",
                "type": "function",
                "function": {"name": "forecast", "arguments": json.dumps({"city": city})},
            }
        ],
    )
    body["usage"] = wire.chat_usage(prompt_tokens, 7)
    return check(ChatCompletion, body)


def agent_api(api: LoopbackAPI) -> None:
    """Round 1: the model asks for the forecast tool; round 2: it answers from the tool's result."""

    def reply(request: Request) -> Reply:
        rounds = sum(1 for seen in api.requests if seen.path == "/v1/chat/completions")
        if rounds == 1:
            return Reply(body=tool_call_completion("Oslo", 150))
        answer = wire.chat_completion("Rain in Oslo.", completion_id="chatcmpl-CXtap0011")
        answer["usage"] = wire.chat_usage(300, 4)
        return Reply(body=check(ChatCompletion, answer))

    api.route("POST", "/v1/chat/completions", reply)


@tool
def forecast(city: str) -> str:
    """The forecast of a city."""
    return f"rain in {city}"


ROUND = (
    "invoke_workflow agent",
    [
        "invoke_workflow call_model",
        ("invoke_workflow RunnableSequence", ["invoke_workflow Prompt", "chat gpt-4o-mini"]),
        "invoke_workflow should_continue",
    ],
)


def test_named_langgraph_agent_with_tool_rounds(instrumented: Telemetry, api: LoopbackAPI) -> None:
    import warnings

    from langgraph.prebuilt import create_react_agent

    agent_api(api)
    model = ChatOpenAI(model="gpt-4o-mini", api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # create_react_agent is deprecated for langchain's create_agent
        agent = create_react_agent(model, [forecast], name="weather_agent")

    result = agent.invoke({"messages": [("user", "Weather in Oslo?")]})

    assert result["messages"][-1].content == "Rain in Oslo."
    spans = instrumented.genai_spans()
    assert tree(spans) == [
        (
            "invoke_agent weather_agent",
            [ROUND, ("invoke_workflow tools", ["execute_tool forecast"]), ROUND],
        )
    ]
    root = named(spans, "invoke_agent weather_agent")
    assert root.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert root.attributes["gen_ai.agent.name"] == "weather_agent"
    assert len({span.context.trace_id for span in spans}) == 1
    models = sorted((s for s in spans if s.name == "chat gpt-4o-mini"), key=lambda span: span.start_time)
    assert [span.attributes["gen_ai.response.id"] for span in models] == ["chatcmpl-CXtap0010", "chatcmpl-CXtap0011"]
    assert [span.attributes["gen_ai.response.finish_reasons"] for span in models] == [("tool_calls",), ("stop",)]
    for span in models:
        assert span.attributes["llmtap.langchain.model_class"] == "ChatOpenAI"
        assert span.attributes["server.port"] == api.port
    # Two API calls: 150 + 300 input tokens, each on one span only.
    assert usage_spans(instrumented) == ["chat gpt-4o-mini", "chat gpt-4o-mini"]
    assert usage_sum(instrumented) == 450
    tokens = instrumented.metric_points("gen_ai.client.token.usage")
    assert sorted((p.attributes["gen_ai.token.type"], p.sum, p.count) for p in tokens) == [
        ("input", 450, 2),
        ("output", 11, 2),
    ]


@pytest.mark.parametrize(
    "question",
    [("user", "Weather in Oslo?"), {"role": "user", "content": "Weather in Oslo?"}, "Weather in Oslo?"],
    ids=["tuple", "dict", "text"],
)
def test_agent_input_in_langgraph_shorthand_is_a_user_message(
    instrumented: Telemetry, api: LoopbackAPI, question: Any
) -> None:
    """LangGraph reads `("user", text)`, `{"role", "content"}` and bare text as messages: so does the agent span."""
    import warnings

    from langgraph.prebuilt import create_react_agent

    agent_api(api)
    model = ChatOpenAI(model="gpt-4o-mini", api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        agent = create_react_agent(model, [forecast], name="weather_agent")

    agent.invoke({"messages": [question]})

    root = named(instrumented.genai_spans(), "invoke_agent weather_agent")
    user = {"role": "user", "parts": [{"type": "text", "content": "Weather in Oslo?"}]}
    assert json.loads(root.attributes["gen_ai.input.messages"]) == [user]
    assert json.loads(root.attributes["input.value"]) == {"messages": [user]}
    assert json.loads(root.attributes["gen_ai.output.messages"])[-1] == {
        "role": "assistant",
        "parts": [{"type": "text", "content": "Rain in Oslo."}],
        "finish_reason": "stop",
    }


def test_langgraph_thread_is_the_conversation_id(instrumented: Telemetry, api: LoopbackAPI) -> None:
    """A LangGraph thread (`configurable.thread_id`) is the conventions' `gen_ai.conversation.id` on the
    graph's spans and on the model span of the SDK call inside it."""
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, MessagesState, StateGraph

    api.route("POST", "/v1/chat/completions", Reply(body=wire.chat_completion("Hi!")))
    model = ChatOpenAI(model="gpt-4o-mini", api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0)
    builder = StateGraph(MessagesState)
    builder.add_node("answer", lambda state: {"messages": [model.invoke(state["messages"])]})
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    graph = builder.compile(checkpointer=InMemorySaver())

    graph.invoke({"messages": [("user", "hello")]}, {"configurable": {"thread_id": "thread-7"}})
    graph.invoke({"messages": [("user", "again")]}, {"configurable": {"thread_id": 8}})

    spans = instrumented.genai_spans()
    assert sorted((span.name, span.attributes.get("gen_ai.conversation.id")) for span in spans) == [
        ("chat gpt-4o-mini", "8"),
        ("chat gpt-4o-mini", "thread-7"),
        ("invoke_workflow LangGraph", "8"),
        ("invoke_workflow LangGraph", "thread-7"),
        ("invoke_workflow answer", "8"),
        ("invoke_workflow answer", "thread-7"),
    ]


def test_span_of_a_langchain_message_is_its_model_span(instrumented: Telemetry, api: LoopbackAPI) -> None:
    """`llmtap.span_of(ai_message)`: the SDK's model span when one covered the run, else the run's own."""
    api.route("POST", "/v1/chat/completions", Reply(body=wire.chat_completion("Hi!")))
    model = ChatOpenAI(model="gpt-4o-mini", api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0)
    fake = GenericFakeChatModel(messages=iter([AIMessage(content="fake")]))

    answer = model.invoke("hello")
    faked = fake.invoke("hello")

    spans = instrumented.genai_spans()
    assert sorted(span.name for span in spans) == ["chat", "chat gpt-4o-mini"]
    sdk_span, fake_span = named(spans, "chat gpt-4o-mini"), named(spans, "chat")
    assert llmtap.span_of(answer) == llmtap.SpanRef.from_context(sdk_span.context)
    assert llmtap.span_of(faked) == llmtap.SpanRef.from_context(fake_span.context)


def test_an_unnamed_graph_stays_a_workflow(instrumented: Telemetry) -> None:
    import warnings

    from langgraph.prebuilt import create_react_agent

    class ToolModel(GenericFakeChatModel):
        def bind_tools(self, tools: Any, **kwargs: Any) -> ToolModel:
            return self

    model = ToolModel(messages=iter([AIMessage(content="no tools needed")]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = create_react_agent(model, [forecast])

    graph.invoke({"messages": [("user", "hi")]})

    roots = [span for span in instrumented.genai_spans() if span.parent is None]
    assert [span.name for span in roots] == ["invoke_workflow LangGraph"]


# --- the manual API and decorators around an instrumented SDK call -----------------------------------------


def sdk(api: LoopbackAPI) -> openai.OpenAI:
    api.route("POST", "/v1/chat/completions", Reply(body=wire.chat_completion("Hi!", usage=wire.chat_usage(21, 3))))
    return openai.OpenAI(api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0)


def test_manual_span_around_an_sdk_call_is_its_parent_without_usage(instrumented: Telemetry, api: LoopbackAPI) -> None:
    client = sdk(api)
    tracer = llmtap.LLMTracer()

    with tracer.trace_llm_call(model_name="gpt-4o-mini", prompt="hello", tags={"user_id": "u1"}) as span:
        ref = span.ref  # known before the call ends
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}])
        span.set_response(reply)

    spans = instrumented.genai_spans()
    assert tree(spans) == [("invoke_workflow gpt-4o-mini", ["chat gpt-4o-mini"])]
    manual, model = named(spans, "invoke_workflow gpt-4o-mini"), named(spans, "chat gpt-4o-mini")
    assert (manual.context.trace_id, manual.context.span_id) == (int(ref.trace_id, 16), int(ref.span_id, 16))
    assert model.parent.span_id == manual.context.span_id
    assert llmtap.span_of(reply) == llmtap.SpanRef.from_context(model.context)
    attributes = dict(manual.attributes)
    assert json.loads(attributes.pop("gen_ai.input.messages")) == [
        {"role": "user", "parts": [{"type": "text", "content": "hello"}]}
    ]
    assert json.loads(attributes.pop("gen_ai.output.messages")) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hi!"}], "finish_reason": "stop"}
    ]
    assert attributes == {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.workflow.name": "gpt-4o-mini",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "llmtap.layer.covered": True,
        "llmtap.tag.user_id": "u1",
        "user.id": "u1",
    }
    assert model.attributes["gen_ai.usage.input_tokens"] == 21
    assert model.attributes["llmtap.tag.user_id"] == "u1"
    assert usage_spans(instrumented) == ["chat gpt-4o-mini"]
    assert usage_sum(instrumented) == 21
    durations = instrumented.metric_points("gen_ai.client.operation.duration")
    assert [(p.attributes["gen_ai.provider.name"], p.count) for p in durations] == [("openai", 1)]


def test_manual_span_around_a_fake_langchain_model_is_its_parent(instrumented: Telemetry) -> None:
    """A LangChain model no SDK covers is the model span; the manual span around it is its parent."""
    usage = {"input_tokens": 4, "output_tokens": 1, "total_tokens": 5}
    model = GenericFakeChatModel(messages=iter([AIMessage(content="ok", usage_metadata=usage)]))

    with llmtap.LLMTracer().trace_llm_call(model_name="fake", prompt="hello") as span:
        span.set_response(model.invoke("hello").content)
        span.set_usage(input_tokens=4, output_tokens=1)

    assert tree(instrumented.genai_spans()) == [("invoke_workflow fake", ["chat"])]
    assert usage_spans(instrumented) == ["chat"]
    assert usage_sum(instrumented) == 4


def test_manual_span_with_no_instrumented_call_is_the_model_span(instrumented: Telemetry) -> None:
    with llmtap.LLMTracer().trace_llm_call(model_name="house-1", prompt="hello") as span:
        span.set_response("Hi!")
        span.set_usage(input_tokens=9, output_tokens=2)

    span = instrumented.only_span()
    assert span.name == "chat house-1"
    assert span.attributes["gen_ai.operation.name"] == "chat"
    assert "llmtap.layer.covered" not in span.attributes
    assert usage_sum(instrumented) == 9


def test_manual_span_around_chat_openai_in_a_decorated_workflow(instrumented: Telemetry, api: LoopbackAPI) -> None:
    """Three layers around one API call (a decorator, the manual API, a LangChain model): one model span."""
    sdk(api)
    model = ChatOpenAI(model="gpt-4o-mini", api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0)

    @llmtap.workflow(name="answer")
    def answer(question: str) -> str:
        with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4o-mini", prompt=question) as span:
            text = str(model.invoke(question).content)
            span.set_response(text)
        return text

    assert answer("hello") == "Hi!"

    assert tree(instrumented.genai_spans()) == [
        ("invoke_workflow answer", [("invoke_workflow gpt-4o-mini", ["chat gpt-4o-mini"])])
    ]
    model_span = named(instrumented.genai_spans(), "chat gpt-4o-mini")
    assert model_span.attributes["llmtap.langchain.model_class"] == "ChatOpenAI"
    assert usage_spans(instrumented) == ["chat gpt-4o-mini"]
    assert usage_sum(instrumented) == 21


@pytest.mark.parametrize("decorator", [llmtap.workflow, llmtap.agent, llmtap.tool])
def test_decorators_around_an_sdk_call_carry_no_usage(
    instrumented: Telemetry, api: LoopbackAPI, decorator: Any
) -> None:
    client = sdk(api)

    @decorator(name="step")
    def step() -> str:
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
        return reply.choices[0].message.content or ""

    assert step() == "Hi!"

    [(outer, inner)] = tree(instrumented.genai_spans())
    assert outer.endswith(" step") and inner == ["chat gpt-4o-mini"]
    assert usage_spans(instrumented) == ["chat gpt-4o-mini"]
    assert usage_sum(instrumented) == 21
