"""Per-run overhead of the llmtap LangChain handler on a 5-step chain (lambda | prompt | lambda | chat model | parser).

Run by hand: `.venv/bin/python benchmarks/bench_langchain.py [--rounds N] [--runs N]`. Each round times the
same chain, in the same process, three ways one after the other: without llmtap; with a do-nothing
callback handler injected into every callback manager (what LangChain itself spends once any handler
is present); with llmtap (spans to an in-memory exporter through a SimpleSpanProcessor, metrics to an
in-memory reader, content capture on). The best (lowest) time of each way over the rounds is printed
(CPU time of the process, robust against other load on the machine), and its ratio to the
uninstrumented run; llmtap's own share is `with llmtap - with a no-op handler`.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import wrapt
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.callbacks import manager as callbacks_manager
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import llmtap


def chain() -> Any:
    model = FakeListChatModel(responses=["fine, thanks"])
    prompt = ChatPromptTemplate.from_messages([("system", "Be brief."), ("human", "{question}")])
    return (
        RunnableLambda(lambda q: {"question": q.strip()})
        | prompt
        | RunnableLambda(lambda value: value)
        | model
        | StrOutputParser()
    )


def per_run(runnable: Any, runs: int) -> float:
    for _ in range(runs // 10):
        runnable.invoke("how are you?")
    start = time.process_time()  # CPU time of this process: other load on the machine does not count
    for _ in range(runs):
        runnable.invoke("how are you?")
    return (time.process_time() - start) / runs


class _NoopHandler(BaseCallbackHandler):
    run_inline = True


def with_noop_handler(runnable: Any, runs: int) -> float:
    handler = _NoopHandler()

    def inject(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        manager = wrapped(*args, **kwargs)
        if handler not in manager.inheritable_handlers:
            manager.add_handler(handler, inherit=True)
        return manager

    wrapt.wrap_function_wrapper(callbacks_manager, "_configure", inject)  # as llmtap injects its handler
    try:
        return per_run(runnable, runs)
    finally:
        unwrap(callbacks_manager, "_configure")


def with_llmtap(runnable: Any, runs: int) -> tuple[float, int]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    llmtap.instrument(
        tracer_provider=tracer_provider, meter_provider=meter_provider, providers=["langchain"], config={}
    )
    try:
        seconds = per_run(runnable, runs)
        return seconds, len(exporter.get_finished_spans()) // (runs + runs // 10)
    finally:
        llmtap.uninstrument()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--runs", type=int, default=1000)
    options = parser.parse_args()
    runnable = chain()
    bare, noop, tapped = [], [], []
    spans = 0
    for _ in range(options.rounds):
        bare.append(per_run(runnable, options.runs))
        noop.append(with_noop_handler(runnable, options.runs))
        seconds, spans = with_llmtap(runnable, options.runs)
        tapped.append(seconds)
    b, n, t = (min(values) * 1e6 for values in (bare, noop, tapped))
    print(f"5-step chain, {options.rounds} rounds x {options.runs} runs, {spans} spans per run (best of rounds)")
    print(f"without llmtap:        {b:8.1f} us/run")
    print(f"with a no-op handler:  {n:8.1f} us/run  (+{n - b:.1f} us: LangChain's own cost of any handler)")
    print(f"with llmtap:           {t:8.1f} us/run  (+{t - b:.1f} us, x{t / b:.2f})")
    print(f"llmtap's own share:    {t - n:8.1f} us/run  ({(t - n) / spans:.1f} us per span)")


if __name__ == "__main__":
    main()
