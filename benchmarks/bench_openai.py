"""Overhead of llmtap on the real openai SDK, with an in-process HTTP transport (no network noise).

    python benchmarks/bench_openai.py [--quick] [--json out.json] [--batch]

Every scenario runs the real `openai` client over `httpx2.MockTransport`, which answers with bodies in
the exact public wire format (checked against the SDK's own pydantic types at start-up). Each scenario
is timed in blocks, alternating uninstrumented and instrumented (`llmtap.instrument()` /
`llmtap.uninstrument()`) block by block, so load from other processes hits both sides alike. The
figure per side is the minimum over blocks of the mean time per call (the least disturbed block); the
median over blocks is kept in the JSON output too.

The floor is what the instrumented chat span itself costs: one SDK span with the same name, kind and
attributes as a real exported llmtap chat span, started and ended through the same tracer provider.
`overhead/floor` is llmtap's added time per chat call divided by that floor (target <= 1.5).

Memory: VmRSS growth over many chat calls, uninstrumented and instrumented, each after a warm-up, with
the span exporter dropping every span.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
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

import llmtap
import openai

MODEL = "gpt-4o-mini"
API_KEY = "sk-bench-0000000000000000000000000000"
CREATED = 1764201600
STREAM_CHUNKS = 50
LONG_STREAM_CHUNKS = 250

# ---------------------------------------------------------------------------------------------------
# Wire-format bodies (what api.openai.com sends for /v1/chat/completions)
# ---------------------------------------------------------------------------------------------------

_USAGE = {
    "prompt_tokens": 23,
    "completion_tokens": 12,
    "total_tokens": 35,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


def chat_body() -> dict[str, Any]:
    return {
        "id": "chatcmpl-BENCH0000000000000000000001",
        "object": "chat.completion",
        "created": CREATED,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "The capital of France is Paris.",
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": _USAGE,
        "service_tier": "default",
        "system_fingerprint": "fp_b376dfbbd5",
    }


def tool_calls_body() -> dict[str, Any]:
    body = chat_body()
    body["id"] = "chatcmpl-BENCH0000000000000000000002"
    body["choices"] = [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_Bench0000000000000000001",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'},
                    },
                    {
                        "id": "call_Bench0000000000000000002",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": '{"timezone": "Europe/Paris"}'},
                    },
                ],
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ]
    body["usage"] = {**_USAGE, "completion_tokens": 51, "total_tokens": 74}
    return body


def stream_events(chunks: int) -> list[dict[str, Any]]:
    """`chunks` ChatCompletionChunk events: role + first token, content tokens, then finish_reason."""
    events = []
    for index in range(chunks):
        delta: dict[str, Any] = {}
        finish = None
        if index == 0:
            delta = {"role": "assistant", "content": "", "refusal": None}
        elif index == chunks - 1:
            finish = "stop"
        else:
            delta = {"content": f" tok{index}"}
        events.append(
            {
                "id": "chatcmpl-BENCH0000000000000000000003",
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": "gpt-4o-mini-2024-07-18",
                "service_tier": "default",
                "system_fingerprint": "fp_b376dfbbd5",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                "obfuscation": "abcd",
            }
        )
    return events


def sse(events: Sequence[dict[str, Any]]) -> bytes:
    out = [f"data: {json.dumps(event, separators=(',', ':'))}\n\n" for event in events]
    out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def check_wire_format() -> None:
    """Every body validates against the SDK's own types with no unknown fields (so none can drift)."""
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    def no_extra(model: Any, where: str) -> None:
        extra = getattr(model, "model_extra", None)
        if extra:
            raise SystemExit(f"wire format drift: unknown fields {sorted(extra)} in {where}")
        for name in type(model).model_fields:
            value = getattr(model, name)
            values = value if isinstance(value, list) else [value]
            for item in values:
                if hasattr(type(item), "model_fields"):
                    no_extra(item, f"{where}.{name}")

    for body in (chat_body(), tool_calls_body()):
        no_extra(ChatCompletion.model_validate(body, strict=True), "ChatCompletion")
    for event in stream_events(3):
        no_extra(ChatCompletionChunk.model_validate(event, strict=True), "ChatCompletionChunk")


# ---------------------------------------------------------------------------------------------------
# Clients over an in-process transport
# ---------------------------------------------------------------------------------------------------

_JSON = {"content-type": "application/json"}
_SSE = {"content-type": "text/event-stream; charset=utf-8"}


def _responder(body: bytes, headers: dict[str, str]) -> Callable[[httpx2.Request], httpx2.Response]:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers=headers, content=body)

    return handler


def sync_client(body: bytes, headers: dict[str, str]) -> openai.OpenAI:
    http = httpx2.Client(transport=httpx2.MockTransport(_responder(body, headers)))
    return openai.OpenAI(api_key=API_KEY, max_retries=0, http_client=http)


def async_client(body: bytes, headers: dict[str, str]) -> openai.AsyncOpenAI:
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(_responder(body, headers)))
    return openai.AsyncOpenAI(api_key=API_KEY, max_retries=0, http_client=http)


MESSAGES = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Current time in a timezone.",
            "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
        },
    },
]


@dataclass
class Scenario:
    name: str
    run: Callable[[int], None]  # performs n calls
    chunks: int = 0


def scenarios() -> list[Scenario]:
    chat = sync_client(json.dumps(chat_body()).encode(), _JSON)
    tools = sync_client(json.dumps(tool_calls_body()).encode(), _JSON)
    stream = sync_client(sse(stream_events(STREAM_CHUNKS)), _SSE)
    long_stream = sync_client(sse(stream_events(LONG_STREAM_CHUNKS)), _SSE)
    achat = async_client(json.dumps(chat_body()).encode(), _JSON)
    loop = asyncio.new_event_loop()

    def run_chat(n: int) -> None:
        create = chat.chat.completions.create
        for _ in range(n):
            create(model=MODEL, messages=MESSAGES, temperature=0.2, max_tokens=64)

    def run_tools(n: int) -> None:
        create = tools.chat.completions.create
        for _ in range(n):
            create(model=MODEL, messages=MESSAGES, tools=TOOLS, tool_choice="auto")

    def streamer(client: openai.OpenAI, chunks: int) -> Callable[[int], None]:
        def run_stream(n: int) -> None:
            create = client.chat.completions.create
            for _ in range(n):
                seen = 0
                for _chunk in create(model=MODEL, messages=MESSAGES, stream=True):
                    seen += 1
                if seen != chunks:
                    raise SystemExit(f"stream yielded {seen} chunks, expected {chunks}")

        return run_stream

    async def achat_n(n: int) -> None:
        create = achat.chat.completions.create
        for _ in range(n):
            await create(model=MODEL, messages=MESSAGES, temperature=0.2, max_tokens=64)

    def run_achat(n: int) -> None:
        loop.run_until_complete(achat_n(n))

    return [
        Scenario("chat", run_chat),
        Scenario(f"chat stream {STREAM_CHUNKS} chunks", streamer(stream, STREAM_CHUNKS), STREAM_CHUNKS),
        Scenario(
            f"chat stream {LONG_STREAM_CHUNKS} chunks", streamer(long_stream, LONG_STREAM_CHUNKS), LONG_STREAM_CHUNKS
        ),
        Scenario("chat, two tool calls", run_tools),
        Scenario("async chat", run_achat),
    ]


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

    def instrument(self) -> None:
        llmtap.instrument(
            providers=["openai"],
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            config={},
        )

    @staticmethod
    def uninstrument() -> None:
        llmtap.uninstrument()


def pipeline(batch: bool) -> Pipeline:
    exporter = DroppingExporter()
    tracer_provider = TracerProvider()
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    tracer_provider.add_span_processor(processor)
    reader = InMemoryMetricReader()
    return Pipeline(exporter, tracer_provider, MeterProvider(metric_readers=[reader]), reader)


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


def exported_chat_span(tel: Pipeline, scenario: Scenario) -> ReadableSpan:
    """One real llmtap chat span, as the exporter receives it."""
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
        raise SystemExit(f"expected one llmtap span per chat call, got {len(spans)}")
    return spans[0]


def measure_floor(tel: Pipeline, span: ReadableSpan, n: int, blocks: int) -> tuple[float, float]:
    """Min and median microseconds to start and end one SDK span with the llmtap chat span's attributes."""
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
    """The floor span plus the three metric points llmtap records for a chat call (duration, input and
    output token usage, same attributes), through the same providers: the SDK work llmtap cannot avoid."""
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
    """The floor span's cost when each one is made next to a real uninstrumented chat call (cold caches).

    Timed like a scenario: plain chat calls alternating with chat calls each followed by one floor span.
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
# Report
# ---------------------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def print_report(
    rows: list[Row],
    floor: tuple[float, float],
    floor_metrics: tuple[float, float],
    floor_in_situ: float,
    floor_attributes: int,
    memory: Memory,
    per_chunk_marginal: float | None,
    header: dict[str, Any],
) -> None:
    print(
        "llmtap overhead on openai {openai} (python {python}, {processor}, content capture {capture}, "
        "{blocks} alternating blocks/side)".format(**header)
    )
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
    chat = rows[0]
    floor_min, floor_median = floor
    print(
        f"floor: one SDK span, chat span's name/kind/{floor_attributes} attributes: {floor_min:.1f} µs "
        f"(median {floor_median:.1f})"
    )
    print(f"overhead/floor (chat, non-streamed): {chat.added_us / floor_min:.2f}  (target <= 1.5)")
    print(
        f"floor + the 3 metric points of a chat call: {floor_metrics[0]:.1f} µs (median {floor_metrics[1]:.1f}); "
        f"overhead/(span+metrics floor): {chat.added_us / floor_metrics[0]:.2f}"
    )
    in_situ = f"{chat.added_us / floor_in_situ:.2f}" if floor_in_situ > 0 else "n/a"
    print(
        f"floor in situ (the same span made after each uninstrumented chat call): {floor_in_situ:.1f} µs; "
        f"overhead/floor in situ: {in_situ}"
    )
    if per_chunk_marginal is not None:
        print(
            f"marginal µs per streamed chunk ({STREAM_CHUNKS}->{LONG_STREAM_CHUNKS} chunks slope): "
            f"{per_chunk_marginal:.2f}  (target < 2)"
        )
    print(
        f"RSS growth over {memory.calls:,} chat calls after warm-up: uninstrumented {memory.off_growth_kib:+,} KiB, "
        f"instrumented {memory.on_growth_kib:+,} KiB; spans exported (dropped) {memory.spans_exported:,}; "
        f"response objects still tracked by span_of: {memory.tracked_objects_after}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few iterations (CI smoke); figures are not meaningful")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    parser.add_argument("--batch", action="store_true", help="BatchSpanProcessor instead of SimpleSpanProcessor")
    parser.add_argument("--blocks", type=int, help="alternating blocks per side (default 15, quick 2)")
    parser.add_argument("--rss-calls", type=int, help="calls for the RSS measurement (default 20000, quick 300)")
    args = parser.parse_args(argv)

    check_wire_format()
    blocks = args.blocks or (2 if args.quick else 15)
    rss_calls = args.rss_calls or (300 if args.quick else 20_000)
    # Calls per block: roughly 20-60 ms of work per block on a laptop.
    calls = {"chat": 300, "async chat": 300, "chat, two tool calls": 250}
    calls[f"chat stream {STREAM_CHUNKS} chunks"] = 100
    calls[f"chat stream {LONG_STREAM_CHUNKS} chunks"] = 25
    if args.quick:
        calls = {name: max(2, count // 50) for name, count in calls.items()}

    tel = pipeline(args.batch)
    all_scenarios = scenarios()
    # Warm-up: imports, patching, first-call caches, on both sides.
    for scenario in all_scenarios:
        scenario.run(3)
        tel.instrument()
        scenario.run(3)
        tel.uninstrument()

    rows = [measure(scenario, tel, calls[scenario.name], blocks) for scenario in all_scenarios]
    span = exported_chat_span(tel, all_scenarios[0])
    floor = measure_floor(tel, span, 20 if args.quick else 2000, blocks)
    floor_metrics = measure_floor_with_metrics(tel, span, 20 if args.quick else 2000, blocks)
    floor_in_situ = measure_floor_in_situ(all_scenarios[0], tel, span, calls["chat"], blocks)
    short, long = rows[1], rows[2]
    per_chunk_marginal = (long.added_us - short.added_us) / (LONG_STREAM_CHUNKS - STREAM_CHUNKS)
    memory = measure_memory(all_scenarios[0], tel, rss_calls, 50 if args.quick else 2000)
    tel.tracer_provider.shutdown()

    from llmtap import runtime
    from llmtap.config import load_settings

    header = {
        "openai": openai.__version__,
        "python": platform.python_version(),
        "processor": "BatchSpanProcessor" if args.batch else "SimpleSpanProcessor",
        "capture": "on" if load_settings(config={}).capture_content else "off",
        "blocks": blocks,
        "quick": args.quick,
    }
    assert runtime.current() is None
    print_report(
        rows, floor, floor_metrics, floor_in_situ, len(span.attributes or {}), memory, per_chunk_marginal, header
    )
    if args.json:
        result = {
            "header": header,
            "rows": [asdict(row) for row in rows],
            "floor": {
                "span_us": floor[0],
                "span_median_us": floor[1],
                "attributes": dict(span.attributes or {}),
                "overhead_over_floor": rows[0].added_us / floor[0],
                "span_and_metrics_us": floor_metrics[0],
                "span_and_metrics_median_us": floor_metrics[1],
                "overhead_over_span_and_metrics": rows[0].added_us / floor_metrics[0],
                "span_in_situ_us": floor_in_situ,
                "overhead_over_floor_in_situ": rows[0].added_us / floor_in_situ if floor_in_situ > 0 else None,
            },
            "stream_marginal_us_per_chunk": per_chunk_marginal,
            "memory": asdict(memory),
            "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        }
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(result, out, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
