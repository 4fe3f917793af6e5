"""Inside a LangGraph node, a tool or a `RunnableLambda`, the run's span is current: spans the function starts
itself (application spans, a provider SDK called directly) nest below it, and the whole graph is one trace.
Nothing stays current after the run, nor between the chunks a streamed runnable yields.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TypedDict

from langchain_core.runnables import RunnableGenerator, RunnableLambda
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph
from opentelemetry import trace

import openai
from tests.langchain.support import tree
from tests.support import openai_wire as wire
from tests.support.environment import child_env
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry

KEY = "sk-test-000000"


class State(TypedDict):
    question: str
    answer: str


def _ask(client: openai.OpenAI, model: str) -> str:
    reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    return str(reply.choices[0].message.content)


async def _aask(client: openai.AsyncOpenAI, model: str) -> str:
    reply = await client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    return str(reply.choices[0].message.content)


TREE = [
    (
        "invoke_workflow LangGraph",
        [
            (
                "invoke_workflow answer",
                [
                    "db-query",
                    "chat node-model",
                    ("execute_tool lookup", ["cache-read", "chat tool-model"]),
                    ("invoke_workflow summarise", ["render", "chat lambda-model"]),
                    "after-calls",
                ],
            )
        ],
    )
]


def check(telemetry: Telemetry) -> None:
    spans = telemetry.spans()
    assert tree(spans) == TREE
    assert len({span.context.trace_id for span in spans}) == 1
    by_name = {span.name: span for span in spans}
    assert len(by_name) == len(spans) == 11
    for child, parent in (
        ("invoke_workflow answer", "invoke_workflow LangGraph"),
        ("db-query", "invoke_workflow answer"),
        ("chat node-model", "invoke_workflow answer"),
        ("execute_tool lookup", "invoke_workflow answer"),
        ("cache-read", "execute_tool lookup"),
        ("chat tool-model", "execute_tool lookup"),
        ("invoke_workflow summarise", "invoke_workflow answer"),
        ("render", "invoke_workflow summarise"),
        ("chat lambda-model", "invoke_workflow summarise"),
        ("after-calls", "invoke_workflow answer"),
    ):
        assert by_name[child].parent.span_id == by_name[parent].context.span_id, child
    assert by_name["invoke_workflow LangGraph"].parent is None
    assert [span.attributes["gen_ai.request.model"] for span in spans if span.name.startswith("chat ")] == [
        "node-model",
        "tool-model",
        "lambda-model",
    ]


def test_spans_started_in_a_node_a_tool_and_a_lambda_nest_under_their_runs(
    instrumented: Telemetry, api: LoopbackAPI
) -> None:
    api.route("POST", "/v1/chat/completions", Reply(body=wire.chat_completion("Hi")))
    client = openai.OpenAI(api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0)
    app = instrumented.tracer_provider.get_tracer("app")

    @tool
    def lookup(q: str) -> str:
        """Look something up."""
        with app.start_as_current_span("cache-read"):
            pass
        return _ask(client, "tool-model")

    def summarise(text: str) -> str:
        with app.start_as_current_span("render"):
            pass
        return _ask(client, "lambda-model")

    def answer(state: State) -> dict[str, str]:
        with app.start_as_current_span("db-query"):
            pass
        found = lookup.invoke({"q": _ask(client, "node-model")})
        summary = RunnableLambda(summarise, name="summarise").invoke(found)
        with app.start_as_current_span("after-calls"):  # the node's span is current again
            pass
        return {"answer": summary}

    builder = StateGraph(State)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)

    assert builder.compile().invoke({"question": "q", "answer": ""})["answer"] == "Hi"

    assert not trace.get_current_span().get_span_context().is_valid
    check(instrumented)


async def test_async_node_tool_and_lambda_nest_under_their_runs(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/v1/chat/completions", Reply(body=wire.chat_completion("Hi")))
    client = openai.AsyncOpenAI(api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0)
    app = instrumented.tracer_provider.get_tracer("app")

    @tool
    async def lookup(q: str) -> str:
        """Look something up."""
        with app.start_as_current_span("cache-read"):
            pass
        return await _aask(client, "tool-model")

    async def summarise(text: str) -> str:
        with app.start_as_current_span("render"):
            pass
        return await _aask(client, "lambda-model")

    async def answer(state: State) -> dict[str, str]:
        with app.start_as_current_span("db-query"):
            pass
        found = await lookup.ainvoke({"q": await _aask(client, "node-model")})
        summary = await RunnableLambda(summarise, name="summarise").ainvoke(found)
        with app.start_as_current_span("after-calls"):
            pass
        return {"answer": summary}

    builder = StateGraph(State)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)

    assert (await builder.compile().ainvoke({"question": "q", "answer": ""}))["answer"] == "Hi"

    assert not trace.get_current_span().get_span_context().is_valid
    check(instrumented)


def test_a_streamed_generator_runs_under_its_span_and_nothing_is_current_between_chunks(
    instrumented: Telemetry,
) -> None:
    app = instrumented.tracer_provider.get_tracer("app")

    def words(chunks: Iterator[str]) -> Iterator[str]:
        for text in chunks:
            for word in text.split():
                with app.start_as_current_span(f"emit {word}"):
                    pass
                yield word

    chain = (RunnableLambda(lambda q: q, name="prep") | RunnableGenerator(words, name="words")).with_config(
        run_name="pipeline"
    )
    seen = [(word, trace.get_current_span().get_span_context().is_valid) for word in chain.stream("a b")]

    assert seen == [("a", False), ("b", False)]
    spans = instrumented.spans()
    assert tree(spans) == [
        ("invoke_workflow pipeline", ["invoke_workflow prep", ("invoke_workflow words", ["emit a", "emit b"])])
    ]
    assert len({span.context.trace_id for span in spans}) == 1


async def test_an_async_streamed_generator_runs_under_its_span_and_nothing_is_current_between_chunks(
    instrumented: Telemetry,
) -> None:
    app = instrumented.tracer_provider.get_tracer("app")

    async def words(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
        async for text in chunks:
            for word in text.split():
                with app.start_as_current_span(f"emit {word}"):
                    pass
                yield word

    chain = (RunnableLambda(lambda q: q, name="prep") | RunnableGenerator(words, name="words")).with_config(
        run_name="pipeline"
    )
    seen = [(word, trace.get_current_span().get_span_context().is_valid) async for word in chain.astream("a b")]

    assert seen == [("a", False), ("b", False)]
    spans = instrumented.spans()
    assert tree(spans) == [
        ("invoke_workflow pipeline", ["invoke_workflow prep", ("invoke_workflow words", ["emit a", "emit b"])])
    ]
    assert len({span.context.trace_id for span in spans}) == 1


def test_instrument_wraps_the_config_context_functions_once_and_uninstrument_restores_them(
    telemetry: Telemetry,
) -> None:
    import langchain_core.runnables.config as core_config
    import langgraph._internal._runnable as graph_runnable

    import llmtap

    def current() -> tuple:
        return vars(core_config)["_set_config_context"], vars(graph_runnable)["_set_config_context"]

    before = current()
    for _ in range(2):  # a second instrument() after uninstrument() wraps afresh, and only once
        llmtap.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, config={})
        try:
            assert [function.__wrapped__ for function in current()] == list(before)
        finally:
            llmtap.uninstrument()
        assert current() == before
    assert RunnableLambda(lambda x: x + 1).invoke(1) == 2
    assert telemetry.spans() == []


def test_langgraph_imported_after_instrument_is_patched_on_import(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from typing import TypedDict
        import llmtap
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from tests.langchain.support import tree

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        llmtap.instrument(tracer_provider=provider, config={})
        import langchain_core.runnables
        assert "langgraph" not in sys.modules, "instrument() imported langgraph"

        from langgraph.graph import END, START, StateGraph

        class State(TypedDict):
            x: int

        def node(state):
            with provider.get_tracer("app").start_as_current_span("in-node"):
                return {"x": state["x"] + 1}

        builder = StateGraph(State)
        builder.add_node("n", node)
        builder.add_edge(START, "n")
        builder.add_edge("n", END)
        assert builder.compile().invoke({"x": 1}) == {"x": 2}
        print(tree(list(exporter.get_finished_spans())))
        """
    )
    env = child_env()
    env["LLMTAP_STORE"] = str(tmp_path / "llmtap.db")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[('invoke_workflow LangGraph', [('invoke_workflow n', ['in-node'])])]"
