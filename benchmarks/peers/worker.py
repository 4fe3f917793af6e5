"""One configuration of the peers benchmark, in its own process (and venv): serves timed blocks of calls.

    <venv>/bin/python benchmarks/peers/worker.py CONFIG

CONFIG is `bare` (no instrumentation), `llmtap` (`llmtap.instrument()`), or `peer` (every
`opentelemetry_instrumentor` entry point named openai or anthropic in this venv: the peer installed there).
Each is given the same pipeline as bench_openai.py / bench_anthropic.py (benchmarks/harness.py): an SDK
TracerProvider with a SimpleSpanProcessor feeding an exporter that counts and drops spans, and a
MeterProvider with an InMemoryMetricReader; none is set globally (so the anthropic SDK's own tracing stays
off, as it is with `open_telemetry=False` in the clients). The workloads are those scenarios' clients.

Protocol, one JSON object per line: on start the worker prints `{"ready": {...versions}}`; then for
`{"run": scenario, "n": calls}` it makes the calls and prints `{"us": ..., "cpu_us": ...}` (mean µs per
call on the wall clock and on the process's CPU clock); for
`{"probe": scenario}` it makes one call and prints what it exported (spans, their names and attribute
counts, metric points); `{"quit": true}` ends it.
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import entry_points, version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: harness and the scenarios

import bench_anthropic
import bench_openai
import harness

# The workloads, by the name the peers table shows -> (module, scenario name there).
WORKLOADS = {
    "chat": (bench_openai, "chat"),
    "chat stream 50 chunks": (bench_openai, "chat stream 50 chunks"),
    "chat, two tool calls": (bench_openai, "chat, two tool calls"),
    "async chat": (bench_openai, "async chat"),
    "anthropic message": (bench_anthropic, "message"),
    "anthropic stream 50 deltas": (bench_anthropic, "message stream 50 deltas"),
}
VERSIONS = ("openai", "anthropic", "httpx2", "pydantic", "pydantic_core", "opentelemetry-sdk")


def instrument(config: str, tel: harness.Pipeline) -> list[str]:
    """Instrument as `config` says; the names of what was instrumented."""
    if config == "bare":
        return []
    if config == "llmtap":
        tel.instrument()
        return ["llmtap"]
    names = []
    for entry in entry_points(group="opentelemetry_instrumentor"):
        if entry.name in ("openai", "anthropic"):
            # A peer whose supported range excludes the installed SDK logs so and patches nothing: its
            # workloads of that SDK export no span, and the table leaves them out (see `probe`).
            entry.load()().instrument(tracer_provider=tel.tracer_provider, meter_provider=tel.meter_provider)
            names.append(f"{entry.name}: {entry.value} ({entry.dist.name if entry.dist else '?'})")
    if not names:
        raise SystemExit("no openai or anthropic instrumentor in this venv")
    return names


def metric_names(tel: harness.Pipeline) -> list[str]:
    data = tel.reader.get_metrics_data()
    names = set()
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            names.update(metric.name for metric in scope_metrics.metrics)
    return sorted(names)


def probe(run: Any, tel: harness.Pipeline) -> dict[str, Any]:
    """One call: the spans it exported (name, attribute count), whether they hold the messages, and the
    metrics recorded so far."""
    tel.tracer_provider.force_flush()
    tel.exporter.keep = []
    run(1)
    tel.tracer_provider.force_flush()
    spans = tel.exporter.keep
    tel.exporter.keep = None
    return {
        "spans": [[span.name, len(span.attributes or {})] for span in spans],
        "content": any("messages" in key or "prompt" in key for span in spans for key in span.attributes or {}),
        "metrics": metric_names(tel),
    }


def main() -> int:
    config = sys.argv[1]
    tel = harness.pipeline(batch=False, provider="openai")
    tel.providers = ["openai", "anthropic"]
    instrumented = instrument(config, tel)
    scenarios = {module: {s.name: s.run for s in module.scenarios()} for module in (bench_openai, bench_anthropic)}
    runs = {workload: scenarios[module][name] for workload, (module, name) in WORKLOADS.items()}
    out = sys.stdout
    out.write(json.dumps({"ready": {name: version(name) for name in VERSIONS}, "instrumented": instrumented}) + "\n")
    out.flush()
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("quit"):
            break
        if "probe" in command:
            reply = probe(runs[command["probe"]], tel)
        else:
            run, n = runs[command["run"]], command["n"]
            start, start_cpu = time.perf_counter_ns(), time.process_time_ns()
            run(n)
            wall, cpu = time.perf_counter_ns() - start, time.process_time_ns() - start_cpu
            reply = {"us": wall / n / 1000, "cpu_us": cpu / n / 1000}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
