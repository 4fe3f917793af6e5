"""Spans written in the background (`StoreSpanProcessor`, `StoreSpanExporter(background=True)`): every span is
stored and searchable once `force_flush` or `shutdown` returns, none is lost or stored twice, and many rows go into
each INSERT statement whatever SQLite's limit of parameters."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from llmtap.store import TraceQuery, open_store
from llmtap.store.exporter import StoreSpanExporter, StoreSpanProcessor


def _record(provider: TracerProvider, traces: int, *, first: int = 0) -> None:
    tracer = provider.get_tracer("test")
    for number in range(first, first + traces):
        labels = {"llmtap.tag.n": str(number), "llmtap.tag.parity": "even" if number % 2 == 0 else "odd"}
        with tracer.start_as_current_span("workflow", attributes=labels):
            with tracer.start_as_current_span(
                "chat", attributes={**labels, "gen_ai.input.messages": f"question word{number} about refunds"}
            ):
                pass


def _finished(traces: int) -> list:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    _record(provider, traces)
    provider.shutdown()
    return list(memory.get_finished_spans())


def _writer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "llmtap-store-writer"]


def test_force_flush_returns_once_every_span_is_stored_and_searchable(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    processor = StoreSpanProcessor(path)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    reader = None
    try:
        for round_number in range(3):
            _record(provider, 700, first=round_number * 700)
            assert provider.force_flush()
            reader = reader or open_store(path, create=False)
            stored = (round_number + 1) * 700
            assert reader.info().span_count == 2 * stored
            assert reader.count_traces(TraceQuery()) == stored
            assert reader.count_traces(TraceQuery(search="refunds")) == stored
            last = stored - 1
            [found] = reader.query_traces(TraceQuery(search=f"word{last}"))
            assert (found.labels, found.span_count) == ({"n": str(last), "parity": "odd"}, 2)
            assert reader.count_traces(TraceQuery(labels={"parity": "even"})) == stored // 2
        assert processor.exporter.writer.written == 2 * 2100
        assert processor.exporter.writer.pending == 0
    finally:
        provider.shutdown()
        if reader is not None:
            reader.close()
    assert _writer_threads() == []


def test_shutdown_stores_every_batch_handed_over_and_stops_the_writer(tmp_path: Path) -> None:
    spans = _finished(1500)
    path = tmp_path / "llmtap.db"
    exporter = StoreSpanExporter(path, background=True)
    for start in range(0, len(spans), 512):
        exporter.export(spans[start : start + 512])
    exporter.export(spans[:700])  # a batch exported again (a retry): stored once
    exporter.shutdown()
    assert _writer_threads() == []
    assert exporter.export(spans[:1]).name == "FAILURE"  # after shutdown nothing is taken
    store = open_store(path, create=False)
    try:
        assert store.info().span_count == 3000
        assert store.count_traces(TraceQuery()) == 1500
        assert store.count_traces(TraceQuery(search="refunds")) == 1500
        assert [summary.span_count for summary in store.query_traces(TraceQuery(limit=1500))] == [2] * 1500
    finally:
        store.close()
    assert exporter.writer.written == 3000


@pytest.mark.parametrize("max_params", [999, 2000, 32766])  # SQLite before 3.32 allowed 999
def test_multi_row_inserts_fit_any_parameter_limit(tmp_path: Path, max_params: int) -> None:
    spans = _finished(700)
    store = open_store(tmp_path / "llmtap.db")
    try:
        store._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, max_params)
        assert store.write_spans(spans[:1029]) == 1029
        assert store.write_spans(spans) == 1400 - 1029
        assert store.info().span_count == 1400
        assert store.count_traces(TraceQuery(search="refunds")) == 700
        assert store.count_traces(TraceQuery(labels={"parity": "odd"})) == 350
        summaries = store.query_traces(TraceQuery(limit=700))
        assert sorted(int(summary.labels["n"]) for summary in summaries) == list(range(700))
        assert {summary.span_count for summary in summaries} == {2}
    finally:
        store.close()


def test_a_forked_child_writes_with_a_writer_of_its_own(tmp_path: Path) -> None:
    spans = _finished(900)
    path = tmp_path / "llmtap.db"
    exporter = StoreSpanExporter(path, background=True)
    exporter.export(spans[:600])
    assert exporter.force_flush()
    exporter.export(spans[600:1200])  # maybe still queued in the parent when it forks: the parent's to write
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through its exit status
        status = 1
        try:
            before = exporter.writer.written  # counted by the parent before the fork
            exporter.export(spans[1200:1500])
            exporter.shutdown()
            status = 0 if exporter.writer.written - before == 300 and exporter.writer.pending == 0 else 2
        finally:
            os._exit(status)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    exporter.export(spans[1500:])
    exporter.shutdown()
    assert exporter.writer.written == 1500
    store = open_store(path, create=False)
    try:
        assert store.info().span_count == 1800
        assert store.count_traces(TraceQuery(search="refunds")) == 900
        assert {summary.span_count for summary in store.query_traces(TraceQuery(limit=900))} == {2}
    finally:
        store.close()
