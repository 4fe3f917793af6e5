"""`llmtap purge --before DATE` through the real console script, and `Store.purge`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from llmtap.store import StoredAnnotation, TraceQuery, open_store, parse_time, to_ns
from llmtap.store.exporter import StoreSpanExporter

LLMTAP = str(Path(sys.executable).with_name("llmtap"))
DAY = 86_400 * 10**9


def _trace(provider: TracerProvider, day: int, text: str) -> str:
    """A two-span trace that started on 2025-11-`day` (UTC), with `text` as its captured prompt."""
    start = to_ns(datetime(2025, 11, day, tzinfo=UTC))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("workflow", start_time=start, end_on_exit=False) as root:
        child = tracer.start_span(
            "chat m",
            start_time=start + 1000,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [{"type": "text", "content": text}]}]),
                "llmtap.tag.day": day,
            },
        )
        child.end(end_time=start + 2000)
    root.end(end_time=start + 3000)
    return format(root.get_span_context().trace_id, "032x")


@pytest.fixture
def store_file(tmp_path: Path) -> tuple[Path, dict[int, str]]:
    path = tmp_path / "llmtap.db"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(path)))
    ids = {day: _trace(provider, day, f"question about topic{day} and apples") for day in (1, 2, 3)}
    provider.shutdown()
    store = open_store(path)
    store.write_annotations(
        [StoredAnnotation(annotation_id=f"a{day}", name="ok", value=True, trace_id=ids[day], time_ns=1) for day in ids]
    )
    store.close()
    return path, ids


def test_purge_command_deletes_traces_started_before_the_date(store_file: tuple[Path, dict[int, str]]) -> None:
    path, ids = store_file
    result = subprocess.run(
        [LLMTAP, "purge", "--before", "2025-11-03", "--store", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"traces": 2, "spans": 4, "annotations": 2}
    store = open_store(path)
    assert [summary.trace_id for summary in store.query_traces()] == [ids[3]]
    assert [a.id for a in store.annotations()] == ["a3"]
    assert [summary.trace_id for summary in store.query_traces(TraceQuery(search="apples"))] == [ids[3]]
    assert store.query_traces(TraceQuery(search="topic1")) == []
    info = store.info()
    assert (info.trace_count, info.span_count, info.annotation_count) == (1, 2, 1)


def test_purge_text_output_and_bad_date(store_file: tuple[Path, dict[int, str]]) -> None:
    path, _ = store_file
    done = subprocess.run(
        [LLMTAP, "purge", "--before", "2025-11-02T00:00:00Z", "--store", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout == (
        f"purged 1 trace(s), 2 span(s) and 1 annotation(s) that started before 2025-11-02T00:00:00+00:00 from {path}\n"
    )
    bad = subprocess.run(
        [LLMTAP, "purge", "--before", "last tuesday", "--store", str(path)], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 1
    assert bad.stderr == (
        "Error: --before='last tuesday': expected a date or time (2025-11-01, 2025-11-01T12:00:00Z) "
        "or an age (30d, 12h, 15m)\n"
    )
    missing = subprocess.run(
        [LLMTAP, "purge", "--before", "1d", "--store", str(path.with_name("nope.db"))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1
    assert missing.stderr == (
        f"Error: no llmtap store at {path.with_name('nope.db')}; expected the path of an existing store file\n"
    )


def test_parse_time_ages_and_dates() -> None:
    now = datetime(2025, 11, 10, 12, 0, tzinfo=UTC)
    assert parse_time("3d", now=now) == datetime(2025, 11, 7, 12, 0, tzinfo=UTC)
    assert parse_time("90m", now=now) == datetime(2025, 11, 10, 10, 30, tzinfo=UTC)
    assert parse_time("2025-11-01") == datetime(2025, 11, 1, tzinfo=UTC)
    assert parse_time("2025-11-01T01:00:00+01:00") == datetime(2025, 11, 1, tzinfo=UTC)


def test_purge_everything_then_new_spans_are_searchable(store_file: tuple[Path, dict[int, str]]) -> None:
    path, _ = store_file
    store = open_store(path)
    assert store.purge(datetime(2030, 1, 1)).traces == 3
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(path)))
    new = _trace(provider, 5, "bananas")
    provider.shutdown()
    assert [summary.trace_id for summary in store.query_traces(TraceQuery(search="bananas"))] == [new]
    assert store.query_traces(TraceQuery(search="apples")) == []


def test_purge_deletes_every_facet_of_its_traces_and_reports_progress(tmp_path: Path) -> None:
    # The facets have no index by trace: purge finds them by key, from the spans and from the summary (which also
    # holds labels added later with tag_trace).
    path = tmp_path / "llmtap.db"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(path)))
    tracer = provider.get_tracer("test")
    old_start = to_ns(datetime(2025, 11, 1, tzinfo=UTC))
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "llmtap.tag.user_id": "u-1",
    }
    ids = []
    for number in range(1203):  # more than two chunks of 500
        with tracer.start_as_current_span("workflow", start_time=old_start + number, attributes=attributes) as root:
            with tracer.start_as_current_span("chat m", attributes={**attributes, "llmtap.tag.step": number % 3}):
                pass
        ids.append(format(root.get_span_context().trace_id, "032x"))
    with tracer.start_as_current_span("workflow", attributes={"llmtap.tag.user_id": "u-2"}) as kept:
        pass
    provider.shutdown()
    store = open_store(path)
    store.tag_trace(ids[0], {"reviewed": "yes"})
    store.tag_trace(ids[0], {"reviewed": "twice"})
    seen: list[tuple[int, int]] = []
    result = store.purge(datetime(2025, 11, 2, tzinfo=UTC), progress=lambda done, total: seen.append((done, total)))
    assert (result.traces, result.spans) == (1203, 2406)
    assert seen == [(0, 1203), (500, 1203), (1000, 1203), (1203, 1203)]
    kept_id = format(kept.get_span_context().trace_id, "032x")
    assert store._read("SELECT facet, value, trace_id FROM trace_facets ORDER BY facet") == [
        ("label:user_id", "u-2", kept_id)
    ]
    assert store.query_traces(TraceQuery(labels={"user_id": "u-1"})) == []
    store.close()


def test_purge_takes_its_traces_out_of_queues_and_datasets_with_their_reviews_and_deliveries(
    store_file: tuple[Path, dict[int, str]],
) -> None:
    path, ids = store_file
    store = open_store(path)
    for day in (1, 3):
        assert store.enqueue("review", ids[day], rule="errors")
        assert store.record_delivery("exporter:paid", ids[day], "errors")
        assert store.add_to_dataset("golden", ids[day], data={"rule": "errors"})
    claimed = store.claim_queue_item("review", "maya", reviewers=1, lease_ns=60 * 10**9, now_ns=5)
    assert claimed is not None and claimed.trace_id == ids[1]
    store.purge(datetime(2025, 11, 2, tzinfo=UTC))
    assert store._read("SELECT trace_id FROM queue_items") == [(ids[3],)]
    assert store._read("SELECT count(*) FROM queue_reviews") == [(0,)]
    assert store._read("SELECT target, trace_id FROM route_deliveries") == [("exporter:paid", ids[3])]
    assert [trace_id for trace_id, _span, _data in store.dataset_items("golden")] == [ids[3]]
    store.close()
