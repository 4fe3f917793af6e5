"""Export throughput: `llmtap export` rows per second from a queue, a dataset and a trace filter.

    .venv/bin/python benchmarks/bench_export.py                 # 10,000 reviewed traces (~2-3 minutes)
    .venv/bin/python benchmarks/bench_export.py --traces 2000   # a smaller store
    .venv/bin/python benchmarks/bench_export.py --quick         # smoke (figures not meaningful)

Store: N traces made by the OpenTelemetry SDK and written by the store's own exporter, each a workflow with
one `chat` model span (CLIENT; captured system instructions, a 3-message conversation of ~1 kB, the answer,
usage, cost, two labels); every trace has a `human_feedback` annotation (every 4th `bad`) and every other one
a `correction`; all N are completed items of the review queue `review` (the first 100 finished through the
store's queue API, the rest recorded alike in bulk) and items of the dataset `reviewed`.

Rows: `llmtap export --format F --output FILE --json` run in-process (as the CLI entry point runs it), rows
written per second by the wall clock and by CPU time: each format from the queue, then `chat` from the dataset
and from a trace filter (`--annotation human_feedback=bad`, a quarter of the traces). A `preference` row needs a
correction, so it writes half as many rows as it reads traces.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path

from click.testing import CliRunner
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

from llmtap.cli import main
from llmtap.store import StoredAnnotation, open_store
from llmtap.store.exporter import StoreSpanExporter

SYSTEM = [{"type": "text", "content": "You are a helpful support assistant for an online shop. Answer briefly."}]


def _call(index: int) -> dict[str, object]:
    question = f"Where is my order {index}? It was due on Monday and the tracking page has not moved since. " * 3
    conversation = [
        {"role": "user", "parts": [{"type": "text", "content": "Hello, I need help with an order."}]},
        {"role": "assistant", "parts": [{"type": "text", "content": "Of course. What is the order number?"}]},
        {"role": "user", "parts": [{"type": "text", "content": question}]},
    ]
    answer = [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": f"Order {index} left the warehouse yesterday; it arrives Friday."}],
            "finish_reason": "stop",
        }
    ]
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.input_tokens": 310,
        "gen_ai.usage.output_tokens": 24,
        "llmtap.usage.cost": 0.0000609,
        "gen_ai.system_instructions": json.dumps(SYSTEM),
        "gen_ai.input.messages": json.dumps(conversation),
        "gen_ai.output.messages": json.dumps(answer),
    }


def make_store(path: Path, count: int) -> None:
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(StoreSpanExporter(path), max_queue_size=20_000))
    tracer = provider.get_tracer("bench")
    ids = []
    for index in range(count):
        labels = {"llmtap.tag.feature": "checkout" if index % 3 else "search", "llmtap.tag.user_tier": "free"}
        with tracer.start_as_current_span("invoke_workflow answer", attributes=labels) as root:
            attributes = {**labels, **_call(index)}
            with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=attributes):
                pass
        ids.append(format(root.get_span_context().trace_id, "032x"))
        if index % 5000 == 4999:
            provider.force_flush()
    provider.shutdown()
    store = open_store(path, create=False)
    try:
        now = time.time_ns()
        annotations = []
        for index, trace_id in enumerate(ids):
            feedback = "bad" if index % 4 == 0 else "good"
            annotations.append(
                StoredAnnotation(
                    annotation_id=f"f{index}",
                    name="human_feedback",
                    value=feedback,
                    trace_id=trace_id,
                    annotator="user-1",
                    annotator_kind="end_user",
                    schema_version="1",
                    time_ns=now + index,
                )
            )
            if index % 2 == 0:
                annotations.append(
                    StoredAnnotation(
                        annotation_id=f"c{index}",
                        name="correction",
                        value=f"Order {index} ships Friday; here is the tracking link.",
                        trace_id=trace_id,
                        annotator="reviewer-1",
                        annotator_kind="human",
                        schema_version="2",
                        time_ns=now + count + index,
                    )
                )
        for start in range(0, len(annotations), 5000):
            store.write_annotations(annotations[start : start + 5000])
        with store.batch():
            for trace_id in ids:
                store.enqueue("review", trace_id, rule="bench")
                store.add_to_dataset("reviewed", trace_id)
        items = store.queue_items("review", now_ns=now)
        with store.batch():  # a reviewer may complete an item with a free slot without claiming it first
            for item in items[:100]:
                store.finish_queue_review(item.item_id, "reviewer-1", "completed", reviewers=1, now_ns=now)
    finally:
        store.close()
    # The rest completed in bulk, as `finish_queue_review` records it (one `queue_reviews` row, the item's state):
    # each submit scans the queue's reviews for expired claims, so 10,000 submits one by one take minutes.
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT INTO queue_reviews (item_id, reviewer, state, claimed_until_ns, updated_ns) "
            "SELECT id, 'reviewer-1', 'completed', NULL, ? FROM queue_items WHERE queue = 'review' "
            "AND state = 'pending'",
            (now,),
        )
        conn.execute("UPDATE queue_items SET state = 'completed', updated_ns = ? WHERE queue = 'review'", (now,))


def _export(store: Path, output: Path, args: list[str]) -> tuple[int, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    config = store.parent / "llmtap.toml"  # the queue exported, declared (one reviewer per item)
    config.write_text('[queues.review]\nannotations = ["answer_quality", "correction"]\n')
    command = ["export", *args, "--store", str(store), "--output", str(output), "--json"]
    result = CliRunner().invoke(main, command, env={"LLMTAP_CONFIG": str(config)})
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output.strip().splitlines()[-1])["rows"]
    return rows, wall, cpu


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--traces", type=int, default=10_000, help="reviewed traces in the store")
    args = parser.parse_args()
    count = 200 if args.quick else args.traces
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "llmtap.db"
        begin = time.perf_counter()
        make_store(store, count)
        print(f"store of {count} reviewed traces made in {time.perf_counter() - begin:.1f} s")
        print(f"{'export (rows/s)':44} {'rows':>8} {'wall':>8} {'CPU':>8}")
        runs = [
            ("chat from the queue", ["--queue", "review", "--format", "chat"]),
            ("eval from the queue", ["--queue", "review", "--format", "eval"]),
            ("preference from the queue", ["--queue", "review", "--format", "preference"]),
            ("chat from the dataset", ["--dataset", "reviewed", "--format", "chat"]),
            ("chat from a filter (human_feedback=bad)", ["--annotation", "human_feedback=bad", "--format", "chat"]),
        ]
        for name, options in runs:
            rows, wall, cpu = _export(store, Path(folder) / "out.jsonl", options)
            print(f"{name:44} {rows:8d} {rows / wall:8.0f} {rows / cpu:8.0f}")


if __name__ == "__main__":
    main_()
