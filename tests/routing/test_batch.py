"""Back-fill plumbing: traces read from the store in batches, and routing writes made in one transaction."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from llmtap.config import load_settings
from llmtap.routing import load
from llmtap.routing.runner import annotation_facts, facts_of_stored
from llmtap.store import StoredAnnotation, TraceQuery, open_store


def _store_with_traces(path: Path, count: int) -> list[str]:
    """`count` two-span traces (every 4th failed) written to a store at `path`; their ids, oldest first."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test")
    ids = []
    for index in range(count):
        with tracer.start_as_current_span("invoke_workflow answer", attributes={"llmtap.tag.n": index}) as root:
            with tracer.start_as_current_span("chat m", attributes={"gen_ai.operation.name": "chat"}):
                pass
            if index % 4 == 0:
                root.set_status(Status(StatusCode.ERROR))
        ids.append(format(root.get_span_context().trace_id, "032x"))
    store = open_store(path)
    try:
        store.write_spans(memory.get_finished_spans())
        store.write_annotations(
            [StoredAnnotation(annotation_id="a1", name="human_feedback", value="bad", trace_id=ids[3], time_ns=5)]
        )
    finally:
        store.close()
    return ids


def test_get_traces_gives_what_get_trace_gives_in_order_across_batches(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    ids = _store_with_traces(path, 520)  # more than one read batch (500)
    store = open_store(path, create=False)
    try:
        wanted = [ids[519], "f" * 32, *ids[:510]]
        found = store.get_traces(wanted)
        assert [detail.trace_id for detail in found] == [ids[519], *ids[:510]]  # the unknown id left out
        assert found[0] == store.get_trace(ids[519])
        assert found[4] == store.get_trace(ids[3])
        assert [annotation.annotation_id for annotation in found[4].annotations] == ["a1"]
        assert [span.name for span in found[1].spans] == ["invoke_workflow answer", "chat m"]
        assert store.get_traces([]) == []
        newest_first = [summary.trace_id for summary in store.query_traces(TraceQuery(limit=600))]
        assert store.trace_ids(TraceQuery(limit=5, offset=7)) == newest_first  # every match: no paging
        assert len(newest_first) == 520
        assert store.trace_ids(TraceQuery(labels={"n": "7"})) == [ids[7]]
    finally:
        store.close()


def test_a_batch_commits_its_writes_together_and_undoes_a_failed_one_alone(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    ids = _store_with_traces(path, 4)
    store = open_store(path, create=False)
    other = open_store(path, create=False)
    try:
        with store.batch():
            assert store.enqueue("review", ids[0], rule="r") is True
            circular: dict[str, object] = {}
            circular["self"] = circular
            with pytest.raises(ValueError, match="Circular reference"):
                store.add_to_dataset("broken", ids[1], data=circular)  # fails after creating the dataset
            assert store.add_to_dataset("d", ids[2]) is True
            assert store.enqueue("review", ids[0], rule="r") is False  # idempotent inside the batch too
            assert other.queue_item_traces("review") == []  # not visible before the batch commits
        assert other.queue_item_traces("review") == [(ids[0], "pending", "r")]
        assert [trace_id for trace_id, _, _ in other.dataset_items("d")] == [ids[2]]
        with closing(sqlite3.connect(path)) as conn:  # the dataset "broken" was undone with its failed write
            assert conn.execute("SELECT name FROM datasets ORDER BY name").fetchall() == [("d",)]
        with pytest.raises(RuntimeError), store.batch():
            store.enqueue("review", ids[1])
            raise RuntimeError("the batch fails")
        assert other.queue_item_traces("review") == [(ids[0], "pending", "r")]  # all of it undone
    finally:
        store.close()
        other.close()


def test_run_many_selects_and_writes_as_run_does(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    ids = _store_with_traces(path, 8)
    routes = [
        {"name": "errors", "when": "trace.error", "actions": ["queue:review", "tag:triage=needed"]},
        {"name": "bad", "when": 'annotations.human_feedback == "bad"', "actions": ["dataset:bad"]},
    ]
    store = open_store(path, create=False)
    try:
        runner = load(load_settings(config={"routes": routes}), store)
        traces = [
            ([facts_of_stored(span) for span in detail.spans], annotation_facts(detail.annotations))
            for detail in store.get_traces(ids)
        ]
        dry = [runner.run(spans, annotations, dry_run=True) for spans, annotations in traces]
        results = runner.run_many(traces)
        assert [(r.trace_id, r.done, r.skipped) for r in results] == [(r.trace_id, r.done, []) for r in dry]
        assert [(r.trace_id, r.done) for r in results if r.done] == [
            (ids[0], ["queue:review", "tag:triage=needed"]),
            (ids[3], ["dataset:bad"]),
            (ids[4], ["queue:review", "tag:triage=needed"]),
        ]
        assert [r.skipped for r in runner.run_many(traces) if r.skipped] == [
            ["queue:review", "tag:triage=needed"],
            ["dataset:bad"],
            ["queue:review", "tag:triage=needed"],
        ]
        assert store.queue_item_traces("review") == [(ids[0], "pending", "errors"), (ids[4], "pending", "errors")]
        assert store.get_trace(ids[4]).summary.labels == {"n": "4", "triage": "needed"}
    finally:
        store.close()
