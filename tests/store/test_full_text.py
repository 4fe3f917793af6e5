"""Full-text search (schema version 9): one index row per trace and transaction, holding the text of the trace's
spans stored together, searched words all in one row, words that split into several tokens kept as phrases, and
purge leaving nothing behind, for traces written before version 9 (a row per span) as well."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from llmtap.store import TraceQuery, open_store
from llmtap.store import schema as store_schema
from llmtap.store.convert import SPAN_COLUMNS, SpanRow, summarize

WORDS = ("alpha", "bravo", "charlie", "gpt", "4o", "don", "t", "delta", "echo")


def _messages(role: str, text: str) -> str:
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]}])


def _traces(count: int, *, first: int = 0) -> list:
    """Traces of a workflow span and two model calls: the question in the first, the answer in the second."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test")
    for number in range(first, first + count):
        with tracer.start_as_current_span("workflow", attributes={"llmtap.tag.n": str(number)}):
            for key, role, text in (
                ("gen_ai.input.messages", "user", f"alpha bravo on gpt-4o t{number}"),
                ("gen_ai.output.messages", "assistant", f"charlie don't n{number}"),
            ):
                attributes = {"gen_ai.operation.name": "chat", key: _messages(role, text)}
                with tracer.start_as_current_span("chat", kind=SpanKind.CLIENT, attributes=attributes):
                    pass
    provider.shutdown()
    return list(memory.get_finished_spans())


def _found(store, words: str) -> list[int]:
    return sorted(int(summary.labels["n"]) for summary in store.query_traces(TraceQuery(search=words, limit=100)))


def _index_rows(store, word: str) -> list[int]:
    return [rowid for (rowid,) in store._conn.execute("SELECT rowid FROM span_text WHERE span_text MATCH ?", (word,))]


def _v8_store(path: Path, spans: list) -> None:
    """What llmtap with schema version 8 wrote: the same tables, a full-text row per span keyed by its rowid."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_ns INTEGER NOT NULL)")
    for version, migration in enumerate(store_schema.MIGRATIONS[:8], 1):
        for statement in migration.split(";\n"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (?, 0)", (version,))
    conn.execute("INSERT INTO resources VALUES (1, 'r', '{}', '')")
    conn.execute("INSERT INTO scopes VALUES (1, 's', 'test', NULL, '', '{}')")
    rows = [SpanRow(span) for span in spans]
    columns = SPAN_COLUMNS.removesuffix(", text_rowid")
    for rowid, row in enumerate(rows, 1):
        conn.execute(f"INSERT INTO spans ({columns}) VALUES ({', '.join('?' * 21)})", (*row.values, 1, 1, rowid))
        if row.text:
            conn.execute("INSERT INTO span_text (rowid, text) VALUES (?, ?)", (rowid, row.text))
    for part in summarize(rows, keep=False):
        conn.execute(f"INSERT INTO traces VALUES ({', '.join('?' * 14)})", part.summary())
        conn.executemany("INSERT INTO trace_facets VALUES (?, ?, ?)", part.facets())
    conn.close()


def test_the_words_are_searched_in_the_text_of_a_traces_spans_stored_together(tmp_path: Path) -> None:
    spans = _traces(4)  # per trace: the question's span, the answer's span, the workflow span
    store = open_store(tmp_path / "llmtap.db")
    try:
        assert store.write_spans(spans[:4]) == 4  # trace 1's answer comes in the next transaction
        assert store.write_spans(spans[4:]) == 8
        assert len(_index_rows(store, "alpha")) == 4  # one row per trace and transaction
        assert len(_index_rows(store, "charlie")) == 4
        assert _found(store, "alpha charlie") == [0, 2, 3]  # question in one span, answer in the other
        assert _found(store, "alpha") == _found(store, "charlie") == [0, 1, 2, 3]
        assert _found(store, "t1 bravo") == _found(store, "n1 charlie") == [1]
        assert _found(store, "t2 n2") == [2]
        assert _found(store, "t2 n3") == []
        assert _found(store, "GPT-4o don't") == [0, 2, 3]  # tokens `gpt` `4o`, `don` `t`, one after the other
        assert _found(store, "4o-gpt") == []
        assert _found(store, "bravo-alpha") == []
        for words, at_most, up_to, every in (("alpha charlie", 10, 3, 3), ("alpha", 3, 3, 4), ("t1 n1", 10, 0, 0)):
            assert store.count_traces(TraceQuery(search=words), at_most=at_most) == up_to
            assert store.count_traces(TraceQuery(search=words)) == every
    finally:
        store.close()


def test_a_store_of_version_8_is_searched_alike_and_purged_without_leftovers(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    _v8_store(path, _traces(3))
    store = open_store(path)
    try:
        assert store.info().schema_version == 9
        assert len(_index_rows(store, "alpha")) == 3
        assert store.write_spans(_traces(3, first=3)) == 9
        assert len(_index_rows(store, "alpha")) == 3 + 3
        assert len(_index_rows(store, "charlie")) == 3 + 3
        assert _found(store, "alpha charlie") == [3, 4, 5]  # the older traces: the words of one span
        assert _found(store, "gpt-4o t1") == [1]
        assert _found(store, "charlie") == [0, 1, 2, 3, 4, 5]
        assert _found(store, "gpt-4o n4") == [4]
        assert store.purge_before_ns(2**62).spans == 18
        for word in (*WORDS, "t1", "n4", "on"):
            assert _index_rows(store, word) == []
        assert store.info().span_count == 0
    finally:
        store.close()


def test_a_retried_batch_puts_its_text_with_a_span_it_stores(tmp_path: Path) -> None:
    spans = _traces(3)
    store = open_store(tmp_path / "llmtap.db")
    try:
        assert store.write_spans([spans[0], spans[4]]) == 2  # the first span of traces 0 and 1: stored before
        rows = [SpanRow(span) for span in spans]
        assert store.write_rows(rows) == 7
        assert _found(store, "alpha charlie") == [2]  # traces 0 and 1: their spans now stored apart from the others
        assert _found(store, "t0") == _found(store, "n0") == [0]
        text_rows = store._conn.execute(
            "SELECT s.trace_id, count(*) FROM spans s JOIN span_text x ON x.rowid = s.rowid "
            "WHERE span_text MATCH 'charlie' GROUP BY s.trace_id"
        ).fetchall()
        assert sorted(count for _, count in text_rows) == [1, 1, 1]  # each a span of its own trace
        assert store.purge_before_ns(2**62).spans == 9
        for word in WORDS:
            assert _index_rows(store, word) == []
    finally:
        store.close()
