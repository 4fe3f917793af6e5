"""Span writes leave their WAL checkpoints to a thread of the store's own, which stops when the store closes."""

from __future__ import annotations

import time
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from llmtap.store import TraceQuery, open_store


def _spans(count: int) -> list:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    for number in range(count):
        with tracer.start_as_current_span("workflow", attributes={"llmtap.tag.n": number, "x": "y" * 2000}):
            pass
    provider.shutdown()
    return list(memory.get_finished_spans())


def test_written_pages_reach_the_database_file_without_the_writer_checkpointing(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    store = open_store(path)
    assert store._conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
    assert store.write_spans(_spans(300)) == 300
    # The writing connection only checkpoints past the backstop; the store's thread has done it meanwhile.
    assert store._conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (16_000,)
    thread = store._checkpointer._thread
    assert (thread.name, thread.is_alive(), thread.daemon) == ("llmtap-store-checkpoint", True, True)
    # Only a checkpoint copies pages into the database file, and nothing else checkpoints here.
    deadline = time.monotonic() + 30
    while path.stat().st_size < 300 * 2000:
        assert time.monotonic() < deadline, path.stat().st_size
        time.sleep(0.05)
    store.close()
    assert not thread.is_alive()
    assert not Path(f"{path}-wal").exists()
    reopened = open_store(path, create=False)
    assert reopened.count_traces(TraceQuery()) == 300
    reopened.close()

