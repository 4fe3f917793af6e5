"""Routing cost: rule evaluation per trace with 20 rules, and back-fill throughput over stored traces.

    .venv/bin/python benchmarks/bench_routing.py                  # ~1 minute
    .venv/bin/python benchmarks/bench_routing.py --traces 100000  # back-fill over 100,000 stored traces
    .venv/bin/python benchmarks/bench_routing.py --quick          # smoke (figures not meaningful)

    .venv/bin/python benchmarks/bench_routing.py --only rules     # the per-trace rows only
    .venv/bin/python benchmarks/bench_routing.py --only stream    # the stream figures alone (also of older code)

Per-trace rows: what the routing thread does for one trace (`Runner.outcomes`: build the CEL variables the
enabled rules read, hand CEL those that changed since the previous trace, evaluate the 20 rules), in CPU µs
over a stream of varied traces (`stream`), and with nothing kept from the previous trace (`fresh`); with
its three parts, for one trace: `build` (the Python values: `Runner.variables`), `to CEL` (their conversion
into a new `cel.Context`: microseconds per map key, string and double in `common-expression-language`),
`rules` (the 20 evaluations on a ready context, as one CEL list: `engine.Batch`). Three rule sets: 20 rules on
trace figures, labels and annotations only (`PLAIN`); 16 of those and 4 reading `spans`/`root`
(`SOME_SPANS`); 9 of 20 reading spans, every field kind, an attribute and a filter (`RULES`). Traces: a
12-span trace (workflow, retrieval, 4 model calls with usage, cost and 2 KB prompts, tool calls) with 2
annotations, and its first 3 spans.

Back-fill rows: `llmtap routes run --since 1d` (the `SOME_SPANS` rules, dataset actions) over N stored
traces of 2 spans (every 10th failed, so ~10% are selected by 2 rules), traces per second by the wall clock
and by CPU time, for a first run and for a second one (everything already done).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cel
from click.testing import CliRunner
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from llmtap.cli import main
from llmtap.config import load_settings
from llmtap.routing import Runner, engine, load
from llmtap.routing.variables import AnnotationFacts, SpanFacts
from llmtap.store.exporter import StoreSpanExporter

# Twenty rules of the kinds users write, none reading `spans` or `root`: trace figures, labels, annotations.
PLAIN = [
    "trace.error",
    'annotations.human_feedback == "bad"',
    'has(labels.feature) && labels.feature == "checkout" && trace.duration_ms > 5000.0',
    "trace.input_tokens + trace.output_tokens > 20000",
    "trace.cost > 0.05",
    '"human_feedback" in annotations && annotations.human_feedback == "good"',
    'has(labels.user_tier) && labels.user_tier == "enterprise"',
    "trace.span_count > 50",
    "size(annotation_history) > 1",
    'has(labels.prompt_version) && labels.prompt_version == "v2"',
    "trace.duration_ms > 30000.0",
    "trace.model_calls > 10",
    'trace.root_name.startsWith("invoke_agent")',
    "has(annotations.rating) && annotations.rating <= 2",
    'trace.error && has(labels.feature) && labels.feature == "checkout"',
    'has(labels.environment) && labels.environment == "production" && trace.cost > 0.01',
    "trace.output_tokens == 0 && trace.model_calls > 0",
    "has(annotations.correction)",
    'has(labels.experiment) && labels.experiment == "b"',
    "trace.input_tokens > 100000 || trace.cost > 1.0",
]
# Four of them replaced by rules that look into the spans (a realistic mix).
SOME_SPANS = [
    *PLAIN[:16],
    'spans.exists(s, s.operation == "execute_tool" && s.status == "ERROR")',
    'spans.exists(s, s.error_type == "RateLimitError")',
    'root.status == "ERROR"',
    'spans.exists(s, s.provider == "anthropic")',
]
# Nine rules reading spans (every span field kind, an attribute, a filter): the costly end.
RULES = [
    "trace.error",
    'annotations.human_feedback == "bad"',
    'has(labels.feature) && labels.feature == "checkout" && trace.duration_ms > 5000.0',
    'spans.exists(s, s.operation == "execute_tool" && s.status == "ERROR")',
    "trace.input_tokens + trace.output_tokens > 20000",
    "trace.cost > 0.05",
    'root.name == "invoke_workflow answer" && trace.model_calls > 3',
    'spans.exists(s, s.model.startsWith("gpt-4o") && s.duration_ms > 2000.0)',
    '"human_feedback" in annotations && annotations.human_feedback == "good"',
    'has(labels.user_tier) && labels.user_tier == "enterprise"',
    "trace.span_count > 50",
    'spans.all(s, s.status != "ERROR")',
    'spans.exists(s, s.error_type == "RateLimitError")',
    "size(annotation_history) > 1",
    'spans.filter(s, s.operation == "chat").size() >= 2',
    'has(labels.prompt_version) && labels.prompt_version == "v2"',
    "trace.duration_ms > 30000.0",
    'root.status == "ERROR"',
    'spans.exists(s, s.provider == "anthropic")',
    "spans.exists(s, has(s.attributes.retrieval_documents_count) && s.attributes.retrieval_documents_count == 0)",
]


def _trace() -> tuple[list[SpanFacts], list[AnnotationFacts]]:
    trace_id = "5b8efff798038103d269b633813fc60c"
    labels = {"llmtap.tag.feature": "checkout", "llmtap.tag.user_tier": "free", "llmtap.tag.prompt_version": "v2"}
    root = SpanFacts(trace_id, "a" * 16, None, "invoke_workflow answer", "INTERNAL", 0, 4_000_000_000, "UNSET", labels)
    spans = [root]
    start = 1_000_000
    for index in range(11):
        kind, name, attributes = "INTERNAL", "execute_tool lookup", {"gen_ai.operation.name": "execute_tool"}
        if index % 3 == 0:
            kind, name = "CLIENT", "chat gpt-4o-mini"
            attributes = {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                "gen_ai.usage.input_tokens": 1200,
                "gen_ai.usage.output_tokens": 300,
                "llmtap.usage.cost": 0.00036,
                "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"' + "x" * 2000 + '"}]}]',
            }
        elif index == 10:
            name, attributes = "retrieval docs", {"gen_ai.operation.name": "retrieval", "retrieval_documents_count": 4}
        end = start + 300_000_000
        span_id = f"{index + 1:016x}"
        spans.append(SpanFacts(trace_id, span_id, "a" * 16, name, kind, start, end, "UNSET", {**labels, **attributes}))
        start += 300_000_000
    annotations = [AnnotationFacts("human_feedback", "good", 1), AnnotationFacts("human_feedback", "bad", 2)]
    return spans, annotations


def _median_us(run: Callable[[], object], calls: int, blocks: int) -> float:
    """Median over blocks of the process CPU time per call (less noisy than wall time on a busy machine)."""
    samples = []
    for _ in range(blocks):
        begin = time.process_time()
        for _ in range(calls):
            run()
        samples.append((time.process_time() - begin) / calls * 1e6)
    return statistics.median(samples)


def _runner(rules: list[str]) -> Runner:
    routes = [{"name": f"r{i}", "when": rule, "actions": [f"dataset:d{i}"]} for i, rule in enumerate(rules)]
    return load(load_settings(config={"routes": routes}))


def make_store(path: Path, count: int) -> None:
    """`count` traces of 2 spans (a workflow and a model call with usage and cost; every 10th trace failed)
    written through the SDK and the store's exporter, as an application would."""
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(StoreSpanExporter(path), max_queue_size=20_000))
    tracer = provider.get_tracer("bench")
    call = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 300,
        "llmtap.usage.cost": 0.00036,
    }
    for index in range(count):
        labels = {"llmtap.tag.feature": "checkout" if index % 3 else "search", "llmtap.tag.user_tier": "free"}
        with tracer.start_as_current_span("invoke_workflow answer", attributes=labels) as root:
            with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes={**labels, **call}):
                pass
            if index % 10 == 0:
                root.set_status(Status(StatusCode.ERROR))
        if index % 5000 == 4999:
            provider.force_flush()
    provider.shutdown()


def _backfill(count: int) -> list[tuple[str, float, float]]:
    """(what, traces/s by the wall clock, traces/s by CPU time) of a first `routes run` and of a second one."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "llmtap.db"
        make_store(path, count)
        config = Path(folder) / "llmtap.toml"
        config.write_text(
            "".join(
                f'[[routes]]\nname = "r{i}"\nwhen = {json.dumps(rule)}\nactions = ["dataset:d{i}"]\n'
                for i, rule in enumerate(SOME_SPANS)
            )
        )
        figures = []
        for what in ("first run", "second run (all already done)"):
            wall, cpu = time.perf_counter(), time.process_time()
            result = CliRunner().invoke(
                main, ["routes", "run", "--since", "1d", "--config", str(config), "--store", str(path), "--json"]
            )
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert result.exit_code == 0, result.output
            figures.append((what, count / wall, count / cpu))
        return figures


def _stream(size: int) -> list[tuple[list[SpanFacts], list[AnnotationFacts]]]:
    """Eight traces of `size` spans as an application sends them: each with its own id, durations and token
    counts; the `feature` label changing every 4th trace, every 4th trace annotated, every 8th with a tool error."""
    spans, annotations = _trace()
    stream = []
    for index in range(8):
        trace_id = f"{index:032x}"
        feature = "checkout" if index < 4 else "search"
        varied = []
        for number, span in enumerate(spans[:size]):
            attributes = dict(span.attributes)
            attributes["llmtap.tag.feature"] = feature
            if "gen_ai.usage.input_tokens" in attributes:
                attributes["gen_ai.usage.input_tokens"] = 1000 + 37 * index + number
            failed = index == 7 and attributes.get("gen_ai.operation.name") == "execute_tool"
            stretch = 1 + index / 10
            varied.append(
                replace(
                    span,
                    trace_id=trace_id,
                    start_ns=int(span.start_ns * stretch),
                    end_ns=int(span.end_ns * stretch),
                    status="ERROR" if failed else span.status,
                    attributes=attributes,
                )
            )
        stream.append((varied, annotations if index % 4 == 3 else []))
    return stream


# The three sets of 20 rules measured, by how many of them read `spans`.
RULE_SETS = (
    ("20 rules, none reading spans", PLAIN),
    ("20 rules, 4 reading spans/root", SOME_SPANS),
    ("20 rules, 9 reading spans/root", RULES),
)


def _rows(calls: int, blocks: int) -> None:
    true = cel.compile("true")
    print(f"{'per trace, CPU µs':50} {'stream':>8} {'fresh':>8} {'build':>8} {'to CEL':>8} {'rules':>8}")
    for label, rules in RULE_SETS:
        runner = _runner(rules)
        for size in (3, 12):
            stream = _stream(size)
            turn = itertools.cycle(stream)
            fresh_turn = itertools.cycle(stream)
            trace, annotations = stream[3]
            built = runner.variables(trace, annotations)
            warm = engine.context(built)
            true.execute(warm)
            programs = [rule.program if rule.flat is None else rule.flat for rule in runner.rules]
            batch = engine.Batch(runner.rules, programs)
            figures = [
                _median_us(lambda turn=turn, runner=runner: runner.outcomes(*next(turn)), calls, blocks),
                _median_us(lambda turn=fresh_turn, runner=runner: _fresh(runner, *next(turn)), calls, blocks),
                _median_us(lambda t=trace, a=annotations, r=runner: r.variables(t, a), calls, blocks),
                _median_us(lambda built=built: true.execute(engine.context(built)), calls, blocks),
                _median_us(lambda warm=warm, batch=batch: batch.run(warm, "t"), calls, blocks),
            ]
            print(f"{f'{label}, {size}-span trace':50} " + " ".join(f"{figure:8.1f}" for figure in figures))
    spans, annotations = _trace()
    every = _runner(RULES)
    matched = [outcome.rule.name for outcome in every.outcomes(spans, annotations) if outcome.matched]
    print(f"{'rules matched on the 12-span trace (9 read spans)':50} {len(matched):8d}")


def _stream_rows(calls: int, blocks: int) -> None:
    """The `stream` figures alone, the lowest of `blocks` blocks (steadier than the median on a busy machine).
    Uses only what the routing API has long had, so it also measures older code: `PYTHONPATH=OLD/src`."""
    print(f"{'stream, CPU µs per trace (min of blocks)':50} {'3 spans':>8} {'12 spans':>8}")
    for label, rules in RULE_SETS:
        runner = _runner(rules)
        figures = []
        for size in (3, 12):
            turn = itertools.cycle(_stream(size))
            samples = []
            for _ in range(blocks):
                begin = time.process_time()
                for _ in range(calls):
                    runner.outcomes(*next(turn))
                samples.append((time.process_time() - begin) / calls * 1e6)
            figures.append(min(samples))
        print(f"{label:50} " + " ".join(f"{figure:8.1f}" for figure in figures))


def _fresh(runner: Runner, spans: list[SpanFacts], annotations: list[AnnotationFacts]) -> object:
    """What `Runner.outcomes` costs when nothing is kept from the previous trace."""
    runner.forget()
    return runner.outcomes(spans, annotations)


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--traces", type=int, default=5000, help="stored traces for the back-fill row")
    parser.add_argument("--only", choices=("rules", "stream", "backfill"), help="run one part only")
    args = parser.parse_args()
    calls, blocks, traces = (20, 3, 200) if args.quick else (500, 9, args.traces)
    if args.only == "stream":
        _stream_rows(*((20, 3) if args.quick else (200, 15)))
        return
    if args.only != "backfill":
        _rows(calls, blocks)
    if args.only != "rules":
        print(f"{f'back-fill of {traces} traces, traces/s':50} {'wall':>8} {'CPU':>8}")
        for what, wall, cpu in _backfill(traces):
            print(f"{what:50} {wall:8.0f} {cpu:8.0f}")


if __name__ == "__main__":
    main_()
