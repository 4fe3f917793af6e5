"""A store that cannot be opened or written: the application keeps running, the problem is told once, nothing
is half written, and spans held while the store was unusable are written when it is usable again."""

from __future__ import annotations

import ctypes
import logging
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from llmtap.store import StoreError, StoreVersionError, TraceQuery, open_store
from llmtap.store.exporter import StoreSpanExporter, StoreSpanProcessor
from llmtap.store.schema import SCHEMA_VERSION
from tests.support.environment import child_env

APP = """
import json, logging, sys
import llmtap
from opentelemetry import trace
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
llmtap.instrument()
from llmtap.store import wiring

@llmtap.workflow(name="step")
def step(text):
    return text.upper()

for batch in range(4):
    for _ in range(25):
        step("x" * 2000)
    wiring.private_provider().force_flush()
print("APP: still running")
"""


def _store_warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("WARNING llmtap:")]


_libc = ctypes.CDLL(None, use_errno=True)
_PR_CAPBSET_DROP, _CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 24, 1, 2


def _without_root_file_powers() -> None:
    """Root ignores permission bits: drop the capabilities that let it, for the program about to run."""
    for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if _libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _run_app(cwd: Path, *, store: str, unprivileged: bool = False, max_file_bytes: int | None = None) -> str:
    def limits() -> None:
        if max_file_bytes is not None:  # a disk that is full once the file reaches this size
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
        if unprivileged and os.geteuid() == 0:
            _without_root_file_powers()

    env = child_env()
    env["LLMTAP_STORE"] = store
    env["HOME"] = str(cwd)
    result = subprocess.run(
        [sys.executable, "-c", APP], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, preexec_fn=limits
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "APP: still running\n"
    return result.stderr


def test_read_only_directory(tmp_path: Path) -> None:
    locked = tmp_path / "readonly"
    locked.mkdir(mode=0o555)
    locked.chmod(0o555)
    path = locked / "llmtap.db"
    stderr = _run_app(tmp_path, store=str(path), unprivileged=True)
    assert _store_warnings(stderr) == [
        f"WARNING llmtap: the llmtap store {path} is not writable (read-only file or directory) "
        "(PermissionError: [Errno 13] Permission denied: '" + str(path) + "'); spans are kept in memory and retried "
        "(up to 20000), the application is unaffected (LLMTAP_STORE=off turns the store off)",
        f"WARNING llmtap: 100 spans could not be written to the local store {path}",
    ]
    assert not path.exists()


def test_full_disk_stores_whole_batches_only(tmp_path: Path) -> None:
    path = tmp_path / "full" / "llmtap.db"
    stderr = _run_app(tmp_path, store=str(path), max_file_bytes=800_000)  # the 100 spans need 1.07 MB
    warnings = _store_warnings(stderr)
    full = f"WARNING llmtap: the llmtap store {path} cannot be written (disk I/O error; is the disk full?)"
    again = f"WARNING llmtap: the local store {path} is usable again; spans are being stored"
    # The problem is reported when it starts; if a checkpoint frees the write-ahead log's room and a batch fits
    # again, the store says so, and reports the problem again when it comes back. At exit, what is still held is
    # counted as lost (when the log had room for the last retry, nothing is).
    lost = 0
    if "spans could not be written" in warnings[-1]:
        assert warnings[-1].startswith("WARNING llmtap: "), stderr
        lost = int(warnings[-1].split()[2])
        warnings = warnings[:-1]
    assert warnings and len(warnings) % 2 == (1 if lost else 0), stderr
    for number, warning in enumerate(warnings):
        assert warning.startswith(full) if number % 2 == 0 else warning == again, stderr
    store = open_store(path)
    assert store._read("PRAGMA integrity_check") == [("ok",)]
    summaries = store.query_traces(TraceQuery(limit=1000))
    info = store.info()
    assert info.span_count == len(summaries) == 100 - lost  # one span per trace; every stored trace complete
    assert 0 < info.span_count <= 100
    assert sum(summary.span_count for summary in summaries) == info.span_count


def _spans(provider: TracerProvider, count: int) -> None:
    tracer = provider.get_tracer("test")
    for number in range(count):
        with tracer.start_as_current_span(f"span {number}", attributes={"llmtap.tag.n": number}):
            pass


@pytest.mark.parametrize("background", [False, True], ids=["export-writes", "writer-thread"])
def test_locked_store_holds_spans_and_writes_them_when_the_lock_goes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, background: bool
) -> None:
    path = tmp_path / "llmtap.db"
    open_store(path).close()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process writing for longer than the busy timeout
    provider = TracerProvider()
    if background:
        processor = StoreSpanProcessor(path, busy_timeout_s=0.2)
        exporter = processor.exporter
        provider.add_span_processor(processor)
    else:
        exporter = StoreSpanExporter(path, busy_timeout_s=0.2)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    with caplog.at_level(logging.WARNING, logger="llmtap"):
        for _ in range(3):
            _spans(provider, 10)
            provider.force_flush()
        assert exporter.writer.pending == 30
        blocker.execute("ROLLBACK")
        blocker.close()
        _spans(provider, 5)
        provider.force_flush()
        provider.shutdown()
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        f"llmtap: the llmtap store {path} is locked by another process (waited 0.2 s) "
        "(OperationalError: database is locked); spans are kept in memory and retried (up to 20000), the "
        "application is unaffected (LLMTAP_STORE=off turns the store off)",
        f"llmtap: the local store {path} is usable again; spans are being stored",
    ]
    assert open_store(path).info().span_count == 35


def test_held_spans_are_bounded_and_the_loss_is_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "llmtap.db"
    path.write_bytes(b"this is not a database, it is a text file that happens to be here" * 100)
    exporter = StoreSpanExporter(path, max_pending=5)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    with caplog.at_level(logging.WARNING, logger="llmtap"):
        for _ in range(2):
            _spans(provider, 4)
            provider.force_flush()
        assert exporter.writer.pending == 5
        provider.shutdown()
    assert [record.getMessage() for record in caplog.records] == [
        f"llmtap: the llmtap store {path} is not an llmtap store or is corrupted; move it away or point "
        "LLMTAP_STORE at another file (DatabaseError: file is not a database); spans are kept in memory and "
        "retried (up to 5), the application is unaffected (LLMTAP_STORE=off turns the store off)",
        f"llmtap: 8 spans could not be written to the local store {path}",
    ]
    assert path.read_bytes().startswith(b"this is not a database")  # the file is left alone


def test_a_store_from_a_newer_llmtap_is_refused_and_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "llmtap.db"
    open_store(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("INSERT INTO schema_version VALUES (99, 0)")
    with pytest.raises(StoreVersionError) as raised:
        open_store(path)
    assert str(raised.value) == (
        f"the llmtap store {path} has schema version 99, newer than this llmtap knows ({SCHEMA_VERSION}); "
        "expected a store written by this version or older: upgrade llmtap or point LLMTAP_STORE at another file"
    )
    assert isinstance(raised.value, StoreError)
    exporter = StoreSpanExporter(path)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    with caplog.at_level(logging.WARNING, logger="llmtap"):
        for _ in range(3):
            _spans(provider, 2)
            provider.force_flush()
        provider.shutdown()
    assert [record.getMessage() for record in caplog.records] == [
        f"llmtap: {raised.value}; spans are kept in memory and retried (up to 20000), the application is "
        "unaffected (LLMTAP_STORE=off turns the store off)",
        f"llmtap: 6 spans could not be written to the local store {path}",
    ]
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM spans").fetchone() == (0,)
