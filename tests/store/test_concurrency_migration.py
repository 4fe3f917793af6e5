"""Several processes writing one store at once, and a store written by an older schema version."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from llmtap.store import StoredAnnotation, TraceQuery, open_store
from llmtap.store import schema as store_schema
from tests.support.environment import child_env

WRITER = """
import sys, time
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind
from llmtap.store.exporter import StoreSpanExporter, StoreSpanProcessor

path, name, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
provider = TracerProvider()
if name == "a":  # each export writes its batch
    provider.add_span_processor(BatchSpanProcessor(StoreSpanExporter(path), max_export_batch_size=256))
else:  # batches written by the exporter's own thread (what instrument() sets up)
    provider.add_span_processor(StoreSpanProcessor(path, max_export_batch_size=256))
tracer = provider.get_tracer("writer")
while time.time() < start_at:
    time.sleep(0.005)
for trace_number in range(200):
    with tracer.start_as_current_span("workflow", attributes={"llmtap.tag.writer": name}):
        for call in range(9):
            with tracer.start_as_current_span(
                "chat m",
                kind=SpanKind.CLIENT,
                attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": "m",
                            "gen_ai.usage.input_tokens": 2},
            ):
                pass
provider.shutdown()
"""


def test_two_processes_write_2000_spans_each_at_once_and_none_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    start_at = time.time() + 3  # both start writing at the same moment, after their imports
    env = child_env()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), name, str(start_at)], env=env, stderr=subprocess.PIPE, text=True
        )
        for name in ("a", "b")
    ]
    for writer in writers:
        _, stderr = writer.communicate(timeout=120)
        assert writer.returncode == 0, stderr
        assert stderr == ""
    store = open_store(path)
    assert store.info().span_count == 4000
    for name in ("a", "b"):
        summaries = store.query_traces(TraceQuery(labels={"writer": name}, limit=1000))
        assert len(summaries) == 200
        assert {(s.span_count, s.model_calls, s.input_tokens, s.root_name) for s in summaries} == {
            (10, 9, 18, "workflow")
        }


def test_a_store_of_schema_version_1_is_migrated_forward_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_ns INTEGER NOT NULL)")
    for statement in store_schema.MIGRATIONS[0].split(";\n"):
        if statement.strip():
            old.execute(statement)
    old.execute("INSERT INTO schema_version VALUES (1, 0)")
    # What llmtap with schema version 1 wrote for one trace of one span:
    old.execute("INSERT INTO resources VALUES (1, 'r', '{\"service.name\": \"old\"}', '')")
    old.execute("INSERT INTO scopes VALUES (1, 's', 'llmtap', '0.0.9', '', '{}')")
    attributes = {"gen_ai.operation.name": "chat", "llmtap.tag.user_id": "u1", "gen_ai.input.messages": "[]"}
    old.execute(
        "INSERT INTO spans VALUES (1, ?, ?, NULL, 'chat m', 'CLIENT', 10, 20, 'UNSET', NULL, ?, '[]', '[]', 1, 1, "
        "'m', 'openai', 1, 3, 4, 0)",
        ("a" * 32, "b" * 16, json.dumps(attributes)),
    )
    old.execute(
        "INSERT INTO traces VALUES (?, ?, 'chat m', 1, 10, 20, 1, 1, 3, 4, 0, '{\"user_id\":\"u1\"}', '[\"m\"]', "
        "'[\"openai\"]')",
        ("a" * 32, "b" * 16),
    )
    old.execute("INSERT INTO trace_facets VALUES ('label:user_id', 'u1', ?)", ("a" * 32,))
    old.close()

    store = open_store(path)
    assert store.info().schema_version == store_schema.SCHEMA_VERSION == 9
    versions = store._read("SELECT version FROM schema_version ORDER BY version")
    assert versions == [(1,), (2,), (3,), (4,), (5,), (6,), (7,), (8,), (9,)]
    [summary] = store.query_traces(TraceQuery(labels={"user_id": "u1"}))
    detail = store.get_trace("aaaa")
    assert [(span.name, span.attributes, span.scope["version"]) for span in detail.spans] == [
        ("chat m", attributes, "0.0.9")
    ]
    assert (summary.input_tokens, summary.output_tokens, summary.models) == (3, 4, ["m"])
    note = StoredAnnotation(annotation_id="n1", name="ok", value=True, trace_id="a" * 32, time_ns=5)
    assert store.write_annotations([note]) == 1
    assert store.get_trace("a" * 32).annotations == [note]
    store._conn.execute(
        "INSERT INTO queue_items (queue, trace_id, added_ns, updated_ns) VALUES ('q', ?, 1, 1)", ("a" * 32,)
    )
