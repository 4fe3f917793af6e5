"""What every provider benchmark shares: the telemetry pipeline, alternating timed blocks, the floors, RSS.

A benchmark script defines its scenarios (`Scenario`: a name and a function making n calls over an
in-process transport) and hands them to `run`, which times them (`measure`: blocks alternating between
uninstrumented and instrumented, min and median over blocks), measures the floor span of the first
scenario's span in three ways and the RSS growth over many calls of that scenario, and returns a
`Results`. `print_rows`, `print_floors`, `print_memory` and `result_json` print and serialise it the
same way for every provider, and `main` is the whole command line of a provider benchmark. `responder` /
`http_client` serve a fixed body over `httpx2.MockTransport`; `wire` is the strict wire-format module the
tests use (tests/support/wire.py and its body builders). See benchmarks/README.md for each figure.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx2
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import SpanKind

REPO_ROOT = Path(__file__).resolve().parents[1]


def wire(name: str = "wire") -> ModuleType:
    """tests/support/<name>.py: the strict wire-format checker (`wire`) or a provider's body builders."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    return importlib.import_module(f"tests.support.{name}")


def responder(body: bytes, headers: dict[str, str]) -> Callable[[httpx2.Request], httpx2.Response]:
    """A transport handler answering every request with `body` (status 200, `headers`)."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers=headers, content=body)

    return handler


def http_client(body: bytes, headers: dict[str, str]) -> httpx2.Client:
    return httpx2.Client(transport=httpx2.MockTransport(responder(body, headers)))


def async_http_client(body: bytes, headers: dict[str, str]) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.MockTransport(responder(body, headers)))


@dataclass
class Scenario:
    name: str
    run: Callable[[int], None]  # performs n calls
    chunks: int = 0


# ---------------------------------------------------------------------------------------------------
# Telemetry pipeline: SDK providers, spans dropped by the exporter
# ---------------------------------------------------------------------------------------------------


class DroppingExporter(SpanExporter):
    """Counts spans and keeps none (or, while `keep` is set, keeps them for inspection)."""

    def __init__(self) -> None:
        self.exported = 0
        self.keep: list[ReadableSpan] | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.exported += len(spans)
        if self.keep is not None:
            self.keep.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


@dataclass
class Pipeline:
    exporter: DroppingExporter
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    reader: InMemoryMetricReader
    providers: list[str]

    def instrument(self) -> None:
        import llmtap  # here, not at the top: the peers' workers (benchmarks/peers) run without llmtap

        llmtap.instrument(
            providers=self.providers,
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            config={},
        )

    @staticmethod
    def uninstrument() -> None:
        import llmtap

        llmtap.uninstrument()


def pipeline(batch: bool, provider: str) -> Pipeline:
    exporter = DroppingExporter()
    tracer_provider = TracerProvider()
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    tracer_provider.add_span_processor(processor)
    reader = InMemoryMetricReader()
    return Pipeline(exporter, tracer_provider, MeterProvider(metric_readers=[reader]), reader, [provider])


# ---------------------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------------------


def _time_block(run: Callable[[int], None], n: int) -> float:
    """Mean microseconds per call over one block of `n` calls."""
    start = time.perf_counter_ns()
    run(n)
    return (time.perf_counter_ns() - start) / n / 1000


@dataclass
class Row:
    name: str
    calls_per_block: int
    blocks: int
    off_us: float
    on_us: float
    added_us: float
    ratio: float
    off_median_us: float
    on_median_us: float
    added_median_us: float
    chunks: int = 0
    added_per_chunk_us: float | None = None


def _alternate(
    off_run: Callable[[int], None], on_run: Callable[[int], None], n: int, blocks: int, tel: Pipeline | None
) -> tuple[list[float], list[float]]:
    """Per-call µs of each block, uninstrumented and instrumented (`tel` given) or `on_run`, alternating."""
    off: list[float] = []
    on: list[float] = []
    for block in range(blocks):
        # Alternate which side goes first so drift (thermal, other load) does not favour one side.
        order = (False, True) if block % 2 == 0 else (True, False)
        for instrumented in order:
            if instrumented and tel is not None:
                tel.instrument()
            try:
                (on if instrumented else off).append(_time_block(on_run if instrumented else off_run, n))
            finally:
                if instrumented and tel is not None:
                    tel.uninstrument()
    return off, on


def measure(scenario: Scenario, tel: Pipeline, n: int, blocks: int) -> Row:
    off, on = _alternate(scenario.run, scenario.run, n, blocks, tel)
    off_min, on_min = min(off), min(on)
    off_med, on_med = statistics.median(off), statistics.median(on)
    row = Row(
        name=scenario.name,
        calls_per_block=n,
        blocks=blocks,
        off_us=off_min,
        on_us=on_min,
        added_us=on_min - off_min,
        ratio=on_min / off_min,
        off_median_us=off_med,
        on_median_us=on_med,
        added_median_us=on_med - off_med,
        chunks=scenario.chunks,
    )
    if scenario.chunks:
        row.added_per_chunk_us = row.added_us / scenario.chunks
    return row


def exported_span(tel: Pipeline, scenario: Scenario) -> ReadableSpan:
    """One real llmtap span of `scenario`, as the exporter receives it."""
    tel.tracer_provider.force_flush()  # spans of earlier calls still queued (BatchSpanProcessor) go first
    tel.exporter.keep = []
    tel.instrument()
    try:
        scenario.run(1)
    finally:
        tel.uninstrument()
    tel.tracer_provider.force_flush()
    spans = [span for span in tel.exporter.keep if span.instrumentation_scope.name == "llmtap"]
    tel.exporter.keep = None
    if len(spans) != 1:
        raise SystemExit(f"expected one llmtap span per {scenario.name} call, got {len(spans)}")
    return spans[0]


def measure_floor(tel: Pipeline, span: ReadableSpan, n: int, blocks: int) -> tuple[float, float]:
    """Min and median microseconds to start and end one SDK span with the llmtap span's attributes."""
    tracer = tel.tracer_provider.get_tracer("llmtap-floor")
    name, attributes = span.name, dict(span.attributes or {})

    def run(count: int) -> None:
        start_span = tracer.start_span
        for _ in range(count):
            start_span(name, kind=SpanKind.CLIENT, attributes=attributes).end()

    run(min(n, 200))
    times = [_time_block(run, n) for _ in range(blocks)]
    return min(times), statistics.median(times)


# The attributes llmtap's metric points carry, taken from the span's.
_METRIC_KEYS = (
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "server.address",
    "server.port",
)


def measure_floor_with_metrics(tel: Pipeline, span: ReadableSpan, n: int, blocks: int) -> tuple[float, float]:
    """The floor span plus the three metric points llmtap records for a call (duration, input and output
    token usage, same attributes), through the same providers: the SDK work llmtap cannot avoid."""
    tracer = tel.tracer_provider.get_tracer("llmtap-floor")
    meter = tel.meter_provider.get_meter("llmtap-floor")
    duration = meter.create_histogram("floor.duration", unit="s")
    tokens = meter.create_histogram("floor.tokens", unit="{token}")
    name, attributes = span.name, dict(span.attributes or {})
    metric_attributes = {key: attributes[key] for key in _METRIC_KEYS if key in attributes}
    input_attributes = {**metric_attributes, "gen_ai.token.type": "input"}
    output_attributes = {**metric_attributes, "gen_ai.token.type": "output"}

    def run(count: int) -> None:
        start_span = tracer.start_span
        for _ in range(count):
            start_span(name, kind=SpanKind.CLIENT, attributes=attributes).end()
            duration.record(0.5, metric_attributes)
            tokens.record(23, input_attributes)
            tokens.record(12, output_attributes)

    run(min(n, 200))
    times = [_time_block(run, n) for _ in range(blocks)]
    return min(times), statistics.median(times)


def measure_floor_in_situ(scenario: Scenario, tel: Pipeline, span: ReadableSpan, n: int, blocks: int) -> float:
    """The floor span's cost when each one is made next to a real uninstrumented call (cold caches).

    Timed like a scenario: plain calls alternating with calls each followed by one floor span.
    """
    tracer = tel.tracer_provider.get_tracer("llmtap-floor")
    name, attributes = span.name, dict(span.attributes or {})

    def run(count: int) -> None:
        start_span = tracer.start_span
        for _ in range(count):
            scenario.run(1)
            start_span(name, kind=SpanKind.CLIENT, attributes=attributes).end()

    off, on = _alternate(scenario.run, run, n, blocks, None)
    return min(on) - min(off)


def rss_kib() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource  # fallback: peak, not current, RSS

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


@dataclass
class Memory:
    calls: int
    off_growth_kib: int
    on_growth_kib: int
    spans_exported: int
    tracked_objects_after: int


def measure_memory(scenario: Scenario, tel: Pipeline, calls: int, warmup: int) -> Memory:
    from llmtap import refs

    def growth(instrumented: bool) -> int:
        if instrumented:
            tel.instrument()
        try:
            scenario.run(warmup)
            gc.collect()
            before = rss_kib()
            scenario.run(calls)
            gc.collect()
            return rss_kib() - before
        finally:
            if instrumented:
                tel.uninstrument()

    off = growth(False)
    tel.tracer_provider.force_flush()
    exported_before = tel.exporter.exported
    on = growth(True)
    tel.tracer_provider.force_flush()
    return Memory(
        calls=calls,
        off_growth_kib=off,
        on_growth_kib=on,
        spans_exported=tel.exporter.exported - exported_before,
        tracked_objects_after=len(refs._produced_by),
    )


# ---------------------------------------------------------------------------------------------------
# One run: every scenario, the floors of the first one, memory
# ---------------------------------------------------------------------------------------------------


def arguments(doc: str, argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few iterations (CI smoke); figures are not meaningful")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    parser.add_argument("--batch", action="store_true", help="BatchSpanProcessor instead of SimpleSpanProcessor")
    parser.add_argument("--blocks", type=int, help="alternating blocks per side (default 15, quick 2)")
    parser.add_argument("--rss-calls", type=int, help="calls for the RSS measurement (default 20000, quick 300)")
    return parser.parse_args(argv)


@dataclass
class Results:
    blocks: int
    rows: list[Row]
    span: ReadableSpan  # the first scenario's llmtap span: what the floors copy
    floor: tuple[float, float]
    floor_metrics: tuple[float, float]
    floor_in_situ: float
    memory: Memory


def run(args: argparse.Namespace, tel: Pipeline, scenarios: list[Scenario], calls: dict[str, int]) -> Results:
    """Time every scenario (`calls` per block, by name; divided by 50 in quick mode), then the floors of
    the first scenario's span and the RSS growth over many calls of it. The pipeline is shut down after."""
    blocks = args.blocks or (2 if args.quick else 15)
    rss_calls = args.rss_calls or (300 if args.quick else 20_000)
    if args.quick:
        calls = {name: max(2, count // 50) for name, count in calls.items()}
    # Warm-up: imports, patching, first-call caches, on both sides.
    for scenario in scenarios:
        scenario.run(3)
        tel.instrument()
        scenario.run(3)
        tel.uninstrument()

    rows = [measure(scenario, tel, calls[scenario.name], blocks) for scenario in scenarios]
    first = scenarios[0]
    span = exported_span(tel, first)
    floor_calls = 20 if args.quick else 2000
    floor = measure_floor(tel, span, floor_calls, blocks)
    floor_metrics = measure_floor_with_metrics(tel, span, floor_calls, blocks)
    floor_in_situ = measure_floor_in_situ(first, tel, span, calls[first.name], blocks)
    memory = measure_memory(first, tel, rss_calls, 50 if args.quick else 2000)
    tel.tracer_provider.shutdown()
    return Results(blocks, rows, span, floor, floor_metrics, floor_in_situ, memory)


# ---------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def print_rows(rows: list[Row]) -> None:
    print("figures: min over blocks of the mean per call, µs; (median) = median over blocks")
    print()
    head = (
        f"{'scenario':<26} {'off µs':>9} {'on µs':>9} {'added µs':>9} {'(median)':>9} {'on/off':>7} {'added/chunk':>11}"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        print(
            f"{row.name:<26} {_fmt(row.off_us):>9} {_fmt(row.on_us):>9} {_fmt(row.added_us):>9} "
            f"{_fmt(row.added_median_us):>9} {row.ratio:>6.2f}x {_fmt(row.added_per_chunk_us, 2):>11}"
        )
    print()


def print_floors(results: Results, call: str) -> None:
    """The floor lines, for the first scenario (`call` names it: "chat", "message")."""
    added = results.rows[0].added_us
    floor_min, floor_median = results.floor
    floor_metrics, in_situ_floor = results.floor_metrics, results.floor_in_situ
    print(
        f"floor: one SDK span, {call} span's name/kind/{len(results.span.attributes or {})} attributes: "
        f"{floor_min:.1f} µs (median {floor_median:.1f})"
    )
    print(f"overhead/floor ({call}, non-streamed): {added / floor_min:.2f}  (target <= 1.5)")
    print(
        f"floor + the 3 metric points of a {call} call: {floor_metrics[0]:.1f} µs (median {floor_metrics[1]:.1f}); "
        f"overhead/(span+metrics floor): {added / floor_metrics[0]:.2f}"
    )
    in_situ = f"{added / in_situ_floor:.2f}" if in_situ_floor > 0 else "n/a"
    print(
        f"floor in situ (the same span made after each uninstrumented {call} call): {in_situ_floor:.1f} µs; "
        f"overhead/floor in situ: {in_situ}"
    )


def print_memory(memory: Memory, call: str) -> None:
    print(
        f"RSS growth over {memory.calls:,} {call} calls after warm-up: uninstrumented {memory.off_growth_kib:+,} KiB, "
        f"instrumented {memory.on_growth_kib:+,} KiB; spans exported (dropped) {memory.spans_exported:,}; "
        f"response objects still tracked by span_of: {memory.tracked_objects_after}"
    )


def result_json(results: Results, header: dict[str, Any], per_chunk_marginal: float | None) -> dict[str, Any]:
    added, floor, floor_metrics = results.rows[0].added_us, results.floor, results.floor_metrics
    return {
        "header": header,
        "rows": [asdict(row) for row in results.rows],
        "floor": {
            "span_us": floor[0],
            "span_median_us": floor[1],
            "attributes": dict(results.span.attributes or {}),
            "overhead_over_floor": added / floor[0],
            "span_and_metrics_us": floor_metrics[0],
            "span_and_metrics_median_us": floor_metrics[1],
            "overhead_over_span_and_metrics": added / floor_metrics[0],
            "span_in_situ_us": results.floor_in_situ,
            "overhead_over_floor_in_situ": added / results.floor_in_situ if results.floor_in_situ > 0 else None,
        },
        "stream_marginal_us_per_chunk": per_chunk_marginal,
        "memory": asdict(results.memory),
    }


def main(
    doc: str,
    argv: Sequence[str] | None,
    *,
    sdk: ModuleType,
    scenarios: Callable[[], list[Scenario]],
    calls: dict[str, int],
    call: str,
    unit: str,
    slope: tuple[int, int],
) -> int:
    """A provider benchmark's command line: time `scenarios()` (`calls` per block), print the table, the
    floors of the first scenario (`call` names it), the marginal cost per streamed `unit` (the slope
    between the rows `slope` names) and the memory growth; with --json, write every figure."""
    args = arguments(doc, argv)
    results = run(args, pipeline(args.batch, sdk.__name__), scenarios(), calls)
    short, long = (results.rows[index] for index in slope)
    per_chunk_marginal = (long.added_us - short.added_us) / (long.chunks - short.chunks)

    from llmtap import runtime
    from llmtap.config import load_settings

    header = {
        sdk.__name__: sdk.__version__,
        "python": platform.python_version(),
        "processor": "BatchSpanProcessor" if args.batch else "SimpleSpanProcessor",
        "capture": "on" if load_settings(config={}).capture_content else "off",
        "blocks": results.blocks,
        "quick": args.quick,
    }
    assert runtime.current() is None
    print(
        f"llmtap overhead on {sdk.__name__} {sdk.__version__} (python {header['python']}, {header['processor']}, "
        f"content capture {header['capture']}, {header['blocks']} alternating blocks/side)"
    )
    print_rows(results.rows)
    print_floors(results, call)
    print(
        f"marginal µs per streamed {unit} ({short.chunks}->{long.chunks} {unit}s slope): "
        f"{per_chunk_marginal:.2f}  (target < 2)"
    )
    print_memory(results.memory, call)
    if args.json:
        result = result_json(results, header, per_chunk_marginal)
        result["command"] = " ".join([os.path.basename(sys.executable), *sys.argv])
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(result, out, indent=2, default=str)
    return 0
