"""Every run llmtap opens ends, even when LangChain never reports its end (`llmtap_langchain.runs`).

A consumer breaking out of `astream_events(..., version="v2")` early (a streaming server whose client went
away) leaves runs LangChain started and never ends: the output parser, or the model itself. llmtap ends them
with their parent run, so 1,000 early breaks leave no open span, no handler entry, and nothing alive.
"""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import Iterator

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.trace import StatusCode

import llmtap
from llmtap_langchain import LangChainInstrumentor
from tests.langchain.support import tree
from tests.support.telemetry import Telemetry


class OpenSpans(SpanProcessor):
    """Counts the spans started and not yet ended (keeps no span: memory stays the application's)."""

    def __init__(self) -> None:
        self.open = 0
        self.ended = 0
        self.problems: list[str] = []

    def on_start(self, span: Span, parent_context: object = None) -> None:
        self.open += 1

    def on_end(self, span: ReadableSpan) -> None:
        self.open -= 1
        self.ended += 1
        if span.status.status_code is StatusCode.ERROR:
            self.problems.append(span.name)


@pytest.fixture
def counted() -> Iterator[OpenSpans]:
    spans = OpenSpans()
    provider = TracerProvider()
    provider.add_span_processor(spans)
    llmtap.instrument(tracer_provider=provider, meter_provider=MeterProvider(), config={})
    try:
        yield spans
    finally:
        llmtap.uninstrument()


def chain():
    model = GenericFakeChatModel(messages=iter([AIMessage(content="one two three four")]))
    return ChatPromptTemplate.from_messages([("user", "{q}")]) | model | StrOutputParser()


async def break_at(event: str) -> None:
    events = chain().astream_events({"q": "x"}, version="v2")
    async for item in events:
        if item["event"] == event:
            break
    await events.aclose()


def open_runs() -> int:
    return len(LangChainInstrumentor().langchain_handler._runs)


@pytest.mark.parametrize("event", ["on_chat_model_start", "on_chat_model_stream", "on_parser_stream"])
async def test_breaking_out_early_leaves_no_run_open(instrumented: Telemetry, event: str) -> None:
    """Which runs LangChain has started when the consumer stops varies with the event (and the loop's timing);
    whichever they are, every one ends, under the sequence, with no error."""
    counted = OpenSpans()
    instrumented.tracer_provider.add_span_processor(counted)

    await break_at(event)
    await asyncio.sleep(0)

    assert open_runs() == 0
    assert counted.open == 0
    [(root, steps)] = tree(instrumented.genai_spans())
    assert root == "invoke_workflow RunnableSequence"
    assert steps in (
        ["invoke_workflow ChatPromptTemplate", "chat"],
        ["invoke_workflow ChatPromptTemplate", "chat", "invoke_workflow StrOutputParser"],
    )
    for span in instrumented.genai_spans():
        assert span.status.status_code is StatusCode.UNSET, (span.name, span.status.description)
        assert "error.type" not in span.attributes


async def test_a_thousand_early_breaks_leave_nothing_open_and_memory_flat(counted: OpenSpans) -> None:
    from llmtap_langchain.runs import Run

    for _ in range(1000):
        await break_at("on_chat_model_stream")
    await asyncio.sleep(0)
    gc.collect()

    assert counted.open == 0  # every span started ended: the sequence, the prompt, the model, the parser
    assert counted.ended >= 1000 * 3
    assert counted.problems == []
    assert open_runs() == 0
    # Nothing kept per break: no run and no span alive (the exporter-less provider keeps none itself).
    assert [type(obj).__name__ for obj in gc.get_objects() if isinstance(obj, Run | Span)] == []


def test_the_registry_is_bounded(instrumented: Telemetry) -> None:
    """Runs whose parents never end either (or that have none) are ended once the registry is full."""
    handler = LangChainInstrumentor().langchain_handler
    limit, handler._runs.limit = handler._runs.limit, 3
    try:
        for index in range(5):
            handler.on_chain_start({}, {}, run_id=uuid.uuid4(), name=f"lost-{index}")
        assert open_runs() == 3
    finally:
        handler._runs.limit = limit
    ended = [span.name for span in instrumented.genai_spans()]
    assert ended == ["invoke_workflow lost-0", "invoke_workflow lost-1"]
    for span in instrumented.genai_spans():
        assert span.attributes["llmtap.langchain.unfinished"] is True
