"""Memory and open spans after consumers break out of `astream_events(..., version="v2")` early.

Run by hand: `.venv/bin/python benchmarks/bench_langchain_early_exit.py [--breaks N]`. A chain
(prompt | fake chat model | StrOutputParser) is streamed with `astream_events` and the consumer breaks at the
first `on_chat_model_stream` event (a streaming server whose client went away), N times, first without
llmtap, then with it (spans to a processor that only counts them). Printed for each: Python heap growth
over the N breaks (tracemalloc, after a warm-up and a full collection), and with llmtap the spans still
open and the runs the handler still tracks (both must be 0). Before llmtap ended the runs LangChain never
ends, each break left one open span and one handler entry behind.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tracemalloc

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

import llmtap


class OpenSpans(SpanProcessor):
    def __init__(self) -> None:
        self.open = 0

    def on_start(self, span: Span, parent_context: object = None) -> None:
        self.open += 1

    def on_end(self, span: ReadableSpan) -> None:
        self.open -= 1


async def break_early() -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="one two three four")]))
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | model | StrOutputParser()
    events = chain.astream_events({"q": "x"}, version="v2")
    async for item in events:
        if item["event"] == "on_chat_model_stream":
            break
    await events.aclose()


async def growth(breaks: int) -> int:
    for _ in range(100):
        await break_early()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(breaks):
        await break_early()
    await asyncio.sleep(0)
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return grown


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--breaks", type=int, default=1000)
    breaks = parser.parse_args().breaks
    bare = asyncio.run(growth(breaks))
    print(f"without llmtap: heap growth over {breaks} early breaks: {bare / 1024:.1f} KiB")
    spans = OpenSpans()
    provider = TracerProvider()
    provider.add_span_processor(spans)
    llmtap.instrument(tracer_provider=provider, meter_provider=MeterProvider(), config={})
    from llmtap_langchain import LangChainInstrumentor

    grown = asyncio.run(growth(breaks))
    runs = len(LangChainInstrumentor().langchain_handler._runs)
    print(f"with llmtap:    heap growth over {breaks} early breaks: {grown / 1024:.1f} KiB")
    print(f"with llmtap:    spans still open: {spans.open}, runs still tracked: {runs}")
    llmtap.uninstrument()


if __name__ == "__main__":
    main()
