"""Cost of one `llmtap.annotate()` call and of one feedback-token round trip, against one plain log record.

    python benchmarks/bench_annotations.py            # about a minute on 2 cores
    python benchmarks/bench_annotations.py --quick    # a smoke run, figures meaningless

Every variant writes through the same SDK `LoggerProvider` (a `SimpleLogRecordProcessor` feeding an
exporter that counts and drops), so what differs is llmtap's own work:

- `log record` (the floor): `logger.emit(...)` of a record with the attributes, context and event name
  llmtap writes for a categorical annotation on a span: what any evaluation event costs in the SDK.
- `annotate(SpanRef)`: `llmtap.annotate(ref, "human_feedback", "good")` (schema check, target, record).
- `annotate(trace id)`: the same on a trace id.
- `token round trip`: `feedback_token(ref, names=[...])` then `annotate_from_token(token, ...)`
  (signing, verifying, replay check, the annotation).

Robust against noise as `bench_labels.py`: each repeat runs every variant once in a rotated order; a
variant's figure in a repeat is the median of its batches; the result is the lowest of those medians
over the repeats; the garbage collector is off while timing.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Callable, Sequence

from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

import llmtap
from llmtap.annotations import emit

SCHEMA = {"human_feedback": {"type": "categorical", "values": {"good": 1.0, "bad": 0.0}, "version": 2}}


class CountingExporter(LogRecordExporter):
    def __init__(self) -> None:
        self.count = 0

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        self.count += len(batch)
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def batch_us(run: Callable[[int], None], calls: int) -> float:
    """Microseconds per call over one batch of `calls`."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        run(calls)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed / calls * 1e6


def variants(ref: llmtap.SpanRef, trace_id: str) -> dict[str, Callable[[int], None]]:
    first = llmtap.annotate(ref, "human_feedback", "good")
    provider = emit.logger_provider()
    logger = emit._logger(provider)
    attributes = emit.record_attributes(first, with_content=True, max_chars=0, text_value=False)
    context = emit._context(first)

    def floor(count: int) -> None:
        for _ in range(count):
            logger.emit(
                timestamp=time.time_ns(),
                context=context,
                severity_number=emit.SeverityNumber.INFO,
                attributes=dict(attributes),
                event_name=emit.EVENT_NAME,
            )

    def on_span(count: int) -> None:
        for _ in range(count):
            llmtap.annotate(ref, "human_feedback", "good")

    def on_trace(count: int) -> None:
        for _ in range(count):
            llmtap.annotate(trace_id, "human_feedback", "good")

    def round_trip(count: int) -> None:
        for _ in range(count):
            token = llmtap.feedback_token(ref, names=["human_feedback"])
            llmtap.annotate_from_token(token, "human_feedback", "good")

    return {
        "log record": floor,
        "annotate(SpanRef)": on_span,
        "annotate(trace id)": on_trace,
        "token round trip": round_trip,
    }


def measure(calls: int, batches: int, repeats: int) -> tuple[dict[str, float], int]:
    exporter = CountingExporter()
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    tracer_provider = TracerProvider()
    os.environ.setdefault("LLMTAP_FEEDBACK_SECRET", "benchmark-secret-0123456789")
    llmtap.instrument(
        providers=[],
        tracer_provider=tracer_provider,
        meter_provider=MeterProvider(),
        logger_provider=logger_provider,
        config={"annotations": SCHEMA},
    )
    try:
        with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
            ref = span.ref
        assert ref is not None
        runs = list(variants(ref, ref.trace_id).items())
        for _, run in runs:  # warm-up
            batch_us(run, calls)
        best = {name: float("inf") for name, _ in runs}
        for repeat in range(repeats):
            shift = repeat % len(runs)
            for name, run in runs[shift:] + runs[:shift]:
                median = statistics.median(batch_us(run, calls) for _ in range(batches))
                best[name] = min(best[name], median)
        return best, exporter.count
    finally:
        llmtap.uninstrument()
        logger_provider.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few calls, figures meaningless")
    parser.add_argument("--calls", type=int, default=1000, help="calls per batch (default 1000)")
    parser.add_argument("--batches", type=int, default=5, help="batches per variant per repeat (default 5)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats (default 5)")
    args = parser.parse_args()
    calls, batches, repeats = (50, 2, 1) if args.quick else (args.calls, args.batches, args.repeats)
    result, exported = measure(calls, batches, repeats)
    floor = result["log record"]
    print(f"{calls} calls x {batches} batches x {repeats} repeats; min over repeats of the median batch")
    print(f"{'variant':<20} {'µs/call':>8} {'ratio':>6} {'added µs':>9}")
    for name, value in result.items():
        print(f"{name:<20} {value:>8.2f} {value / floor:>6.2f} {value - floor:>9.2f}")
    print(f"log records exported: {exported}")


if __name__ == "__main__":
    main()
