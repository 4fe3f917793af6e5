"""Annotations reach the local store through its log exporter; join keys resolve there; the pending report."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import llmtap
from llmtap.annotations import pending
from llmtap.cli import main
from llmtap.store import Store, open_store
from llmtap.store.exporter import StoreLogExporter, StoreSpanExporter
from tests.annotations.conftest import LABELS, SCHEMA, SECRET


@pytest.fixture
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """llmtap writing spans and annotation records into a store file (no other exporter)."""
    for name in ("LLMTAP_CAPTURE_CONTENT", "LLMTAP_CONFIG", "LLMTAP_ENABLED", "OTEL_SDK_DISABLED", "LLMTAP_TAGS"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "llmtap.db"
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(path)))
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(StoreLogExporter(path)))
    pending.set_holder(None)
    llmtap.instrument(
        providers=[],
        tracer_provider=tracer_provider,
        meter_provider=MeterProvider(),
        logger_provider=logger_provider,
        config={"annotations": SCHEMA, "labels": LABELS},
    )
    try:
        yield path
    finally:
        llmtap.uninstrument()
        tracer_provider.shutdown()
        logger_provider.shutdown()
        pending.set_holder(None)


def _read(path: Path) -> Store:
    return open_store(path, create=False)


def test_an_annotation_on_a_span_is_stored_field_for_field(stored: Path) -> None:
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        ref = span.ref
    annotation = llmtap.annotate(
        ref, "human_feedback", "bad", explanation="wrong", annotator="u-9", annotator_kind="end_user", metadata={"n": 2}
    )
    store = _read(stored)
    try:
        [row] = store.annotations()
        detail = store.get_trace(ref.trace_id)
    finally:
        store.close()
    assert (row.id, row.name, row.value, row.score, row.label, row.explanation) == (
        annotation.id,
        "human_feedback",
        "bad",
        0.0,
        "bad",
        "wrong",
    )
    assert (row.trace_id, row.span_id, row.annotator, row.annotator_kind, row.schema_version) == (
        ref.trace_id,
        ref.span_id,
        "u-9",
        "end_user",
        2,  # an int, as `Annotation.schema_version`
    )
    assert row.target == {"kind": "span", "trace_id": ref.trace_id, "span_id": ref.span_id}
    assert row.metadata == {"n": 2}
    assert detail.annotations == [row]


def test_a_join_key_resolved_in_process_is_stored_once(stored: Path) -> None:
    annotation = llmtap.annotate({"join": {"label": "message_id", "value": "m-1"}}, "human_feedback", "good")
    store = _read(stored)
    try:
        assert [row.id for row in store.pending_annotations()] == [annotation.id]
    finally:
        store.close()
    with llmtap.tags(message_id="m-1"), llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        ref = span.ref
    store = _read(stored)
    try:
        assert store.pending_annotations() == []
        [row] = store.annotations()
    finally:
        store.close()
    assert (row.id, row.trace_id, row.span_id) == (annotation.id, ref.trace_id, ref.span_id)
    assert row.target == {
        "kind": "span",
        "trace_id": ref.trace_id,
        "span_id": ref.span_id,
        "join": {"label": "message_id", "value": "m-1"},
    }


def test_a_join_key_on_a_span_stored_before_is_resolved_by_the_store(stored: Path) -> None:
    with llmtap.tags(message_id="m-2"), llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        ref = span.ref
    annotation = llmtap.annotate({"join": {"label": "message_id", "value": "m-2"}}, "human_feedback", "good")
    assert annotation.pending  # this process does not remember ended spans; the store does
    store = _read(stored)
    try:
        [row] = store.annotations()
        assert store.pending_annotations() == []
    finally:
        store.close()
    assert (row.id, row.trace_id, row.span_id) == (annotation.id, ref.trace_id, ref.span_id)


def test_cli_reports_pending_annotations_of_the_store(stored: Path) -> None:
    annotation = llmtap.annotate({"join": {"label": "message_id", "value": "m-3"}}, "human_feedback", "good")
    pending.set_holder(None)  # as in another process: only the store knows it
    result = CliRunner().invoke(main, ["annotations", "pending", "--older-than", "0s", "--store", str(stored)])
    assert result.exit_code == 1, result.output
    first, summary = result.output.splitlines()
    assert first.endswith(f"  {annotation.id}  human_feedback='good'  waiting for message_id='m-3'")
    assert summary == f"1 of 1 pending annotation(s) older than 0s (in the local store {stored})"
    result = CliRunner().invoke(main, ["annotations", "pending", "--older-than", "1h", "--store", str(stored)])
    assert (result.exit_code, result.output) == (
        0,
        f"0 of 1 pending annotation(s) older than 1h (in the local store {stored})\n",
    )


REPLAY = """
import sys
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
import llmtap
from llmtap.store.exporter import StoreLogExporter

logger_provider = LoggerProvider()
logger_provider.add_log_record_processor(SimpleLogRecordProcessor(StoreLogExporter(sys.argv[1])))
schema = {"human_feedback": {"type": "categorical", "values": ["good", "bad"]}}
llmtap.instrument(tracer_provider=TracerProvider(), logger_provider=logger_provider, config={"annotations": schema})
print(llmtap.annotate_from_token(sys.argv[2], "human_feedback", "bad").id)
logger_provider.shutdown()
"""


def test_a_token_replayed_in_another_process_is_stored_once(stored: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTAP_FEEDBACK_SECRET", SECRET)
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        ref = span.ref
    token = llmtap.feedback_token(ref, names=["human_feedback"])
    first = llmtap.annotate_from_token(token, "human_feedback", "good")
    replay = subprocess.run(
        [sys.executable, "-c", REPLAY, str(stored), token], capture_output=True, text=True, check=True, timeout=60
    )
    assert replay.stdout.strip() == first.id  # another worker does not know the token was used ...
    store = _read(stored)
    try:
        assert [(row.annotation_id, row.value) for row in store.annotations()] == [(first.id, "good")]  # ... the store
    finally:
        store.close()
