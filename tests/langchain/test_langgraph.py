"""A LangGraph graph (model node -> tool node) is one trace, sync and async, with nothing leaking out."""

from __future__ import annotations

import asyncio
from typing import TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph
from opentelemetry import trace

from tests.langchain.support import tree
from tests.support.telemetry import Telemetry


class State(TypedDict):
    question: str
    city: str
    answer: str


@tool
def forecast(city: str) -> str:
    """The forecast of a city."""
    return f"rain in {city}"


def graph(model: GenericFakeChatModel, asynchronous: bool = False):
    def pick(state: State) -> dict[str, str]:
        return {"city": str(model.invoke(state["question"]).content)}

    async def apick(state: State) -> dict[str, str]:
        return {"city": str((await model.ainvoke(state["question"])).content)}

    def look_up(state: State) -> dict[str, str]:
        return {"answer": forecast.invoke({"city": state["city"]})}

    builder = StateGraph(State)
    builder.add_node("pick", apick if asynchronous else pick)
    builder.add_node("look_up", look_up)
    builder.add_edge(START, "pick")
    builder.add_edge("pick", "look_up")
    builder.add_edge("look_up", END)
    return builder.compile()


TREE = (
    "invoke_workflow LangGraph",
    [("invoke_workflow pick", ["chat"]), ("invoke_workflow look_up", ["execute_tool forecast"])],
)


def check_trace(spans: list) -> None:
    """One graph run: one trace, each span under the node that ran it."""
    assert tree(spans) == [TREE]
    assert len({span.context.trace_id for span in spans}) == 1
    by_name = {span.name: span for span in spans}
    for child, parent in (
        ("invoke_workflow pick", "invoke_workflow LangGraph"),
        ("invoke_workflow look_up", "invoke_workflow LangGraph"),
        ("chat", "invoke_workflow pick"),
        ("execute_tool forecast", "invoke_workflow look_up"),
    ):
        assert by_name[child].parent.span_id == by_name[parent].context.span_id
    assert by_name["invoke_workflow LangGraph"].parent is None
    assert (
        "llmtap.langchain.tags" not in by_name["invoke_workflow pick"].attributes
    )  # LangGraph's `graph:step:1` left out
    assert by_name["execute_tool forecast"].attributes["gen_ai.tool.call.result"] == '"rain in Bergen"'
    assert by_name["chat"].attributes["gen_ai.output.messages"] == (
        '[{"role":"assistant","parts":[{"type":"text","content":"Bergen"}],"finish_reason":"stop"}]'
    )


def test_graph_invoke_is_one_trace_and_leaks_nothing(instrumented: Telemetry) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="Bergen"), AIMessage(content="after")]))

    assert graph(model).invoke({"question": "Where?"})["answer"] == "rain in Bergen"
    assert not trace.get_current_span().get_span_context().is_valid
    model.invoke("unrelated")

    spans = instrumented.genai_spans()
    unrelated = [span for span in spans if span.attributes.get("gen_ai.input.messages", "").count("unrelated")]
    assert len(unrelated) == 1 and unrelated[0].parent is None
    check_trace([span for span in spans if span not in unrelated])


async def test_graph_ainvoke_runs_concurrently_in_their_own_traces(instrumented: Telemetry) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="Bergen"), AIMessage(content="Bergen")]))
    compiled = graph(model, asynchronous=True)  # an async model node, and the sync tool node in an executor

    results = await asyncio.gather(compiled.ainvoke({"question": "Where?"}), compiled.ainvoke({"question": "Where?"}))

    assert [result["answer"] for result in results] == ["rain in Bergen", "rain in Bergen"]
    assert not trace.get_current_span().get_span_context().is_valid
    spans = instrumented.genai_spans()
    traces = {span.context.trace_id for span in spans}
    assert len(traces) == 2
    for trace_id in traces:
        check_trace([span for span in spans if span.context.trace_id == trace_id])
