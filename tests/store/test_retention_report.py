"""Retention (`store_max_age_days`, `store_max_size_mb`, in the background) and the store's doctor report."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from llmtap.config import load_settings
from llmtap.store import open_store, retention
from llmtap.store.exporter import StoreSpanExporter
from llmtap.store.report import store_report
from llmtap.store.schema import SCHEMA_VERSION

DAY = 86_400 * 10**9
NOW = 1_764_201_600 * 10**9  # 2025-11-27


def _store_with_traces(path: Path, ages_in_days: list[int], content_chars: int = 100, now: int = NOW) -> list[str]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(path)))
    tracer = provider.get_tracer("test")
    ids = []
    for number, age in enumerate(ages_in_days):
        start = now - age * DAY + number
        messages = json.dumps([{"role": "user", "parts": [{"type": "text", "content": f"{number} " * content_chars}]}])
        span = tracer.start_span("chat m", start_time=start, attributes={"gen_ai.input.messages": messages})
        span.end(end_time=start + 1000)
        ids.append(format(span.get_span_context().trace_id, "032x"))
    provider.shutdown()
    return ids


def test_max_age_deletes_older_traces(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    ids = _store_with_traces(path, [40, 31, 29, 1])
    done = retention.apply_retention(path, max_age_days=30, now_ns=NOW)
    assert (done.traces, done.spans) == (2, 2)
    assert [s.trace_id for s in open_store(path).query_traces()] == [ids[3], ids[2]]


def test_max_size_deletes_the_oldest_traces_until_the_data_fits(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    ids = _store_with_traces(path, list(range(300, 0, -1)), content_chars=2000)  # ~4 kB of text each
    before = open_store(path)
    assert before.used_bytes() > 1_000_000
    done = retention.apply_retention(path, max_size_mb=1)
    store = open_store(path)
    kept = store.count_traces()
    assert done.traces == 300 - kept and 0 < kept < 300
    assert store.used_bytes() <= 1_000_000
    newest_first = [s.trace_id for s in store.query_traces()]
    assert newest_first[:5] == ids[::-1][:5]  # the newest are kept
    assert (path.stat().st_size) < 1_400_000  # space given back to the file system


def test_retention_runs_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    _store_with_traces(path, [400, 2], now=time.time_ns())
    thread = retention.start(path, max_age_days=30, max_size_mb=0, interval_s=60, first_after_s=0)
    assert thread is not None
    deadline = time.monotonic() + 20
    while thread.runs < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    thread.stopped.set()
    assert open_store(path).count_traces() == 1


def test_store_report(tmp_path: Path) -> None:
    environ = {"LLMTAP_STORE": str(tmp_path / "s" / "llmtap.db"), "LLMTAP_STORE_MAX_AGE_DAYS": "30"}
    settings = load_settings(environ=environ, cwd=tmp_path)
    assert store_report(settings, environ) == {
        "path": str(tmp_path / "s" / "llmtap.db"),
        "records": "spans (LLMTAP_STORE is set)",
        "retention": "deletes traces older than 30 days",
        "status": "not created yet",
        "writable": True,
        "problem": None,
    }
    _store_with_traces(tmp_path / "s" / "llmtap.db", [1, 2])
    report = store_report(settings, environ)
    assert report["status"] == "ok"
    assert (report["trace_count"], report["span_count"], report["schema_version"], report["writable"]) == (
        2,
        2,
        SCHEMA_VERSION,
        True,
    )
    assert report["size_bytes"] == (tmp_path / "s" / "llmtap.db").stat().st_size + (
        (tmp_path / "s" / "llmtap.db-wal").stat().st_size if (tmp_path / "s" / "llmtap.db-wal").exists() else 0
    )
    with sqlite3.connect(tmp_path / "s" / "llmtap.db") as connection:
        connection.execute("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    unusable = store_report(settings, environ)
    assert (unusable["status"], unusable["writable"]) == ("unusable", False)
    newer = SCHEMA_VERSION + 1
    assert unusable["problem"].startswith(f"the llmtap store {tmp_path / 's' / 'llmtap.db'} has schema version {newer}")
    off = store_report(load_settings(environ={"LLMTAP_STORE": "off"}, cwd=tmp_path), {})
    assert off == {"path": None, "status": "off", "problem": None}
