"""Per-run overhead of the llmtap LangChain handler on a 5-step chain (prompt | 2 lambdas | chat model | parser).

Run by hand: `.venv/bin/python benchmarks/bench_langchain.py`. Prints the mean time per run without and
with llmtap (spans to an in-memory exporter, metrics to an in-memory reader) and the difference.
"""

from __future__ import annotations

import time

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import llmtap

RUNS = 2000


def chain() -> object:
    model = FakeListChatModel(responses=["fine, thanks"])
    prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "{question}")])
    return (
        RunnableLambda(lambda q: {"question": q.strip()})
        | prompt
        | RunnableLambda(lambda value: value)
        | model
        | StrOutputParser()
    )


def per_run(runnable: object) -> float:
    for _ in range(200):
        runnable.invoke("how are you?")  # type: ignore[attr-defined]
    start = time.perf_counter()
    for _ in range(RUNS):
        runnable.invoke("how are you?")  # type: ignore[attr-defined]
    return (time.perf_counter() - start) / RUNS


def main() -> None:
    runnable = chain()
    baseline = per_run(runnable)
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    llmtap.instrument(
        tracer_provider=tracer_provider, meter_provider=meter_provider, providers=["langchain"], config={}
    )
    try:
        instrumented = per_run(runnable)
        spans = len(exporter.get_finished_spans()) // (RUNS + 200)
    finally:
        llmtap.uninstrument()
    print(f"5-step chain, {RUNS} runs, {spans} spans per run")
    print(f"without llmtap: {baseline * 1e6:8.1f} us/run")
    print(f"with llmtap:    {instrumented * 1e6:8.1f} us/run")
    print(f"overhead:       {(instrumented - baseline) * 1e6:8.1f} us/run ({(instrumented / baseline - 1) * 100:.0f}%)")


if __name__ == "__main__":
    main()
