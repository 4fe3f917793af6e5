"""Late feedback by join key: kept pending, resolved when the span arrives, never dropped; the age report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import llmtap
from llmtap.annotations import pending
from llmtap.annotations.model import Annotation, JoinKey, Target
from llmtap.cli import main
from tests.annotations.conftest import Setup, ids, record_ids

JOIN = {"join": {"label": "message_id", "value": "m-123"}}


def test_late_join_resolved_when_the_span_arrives(annotating: Setup) -> None:
    state = annotating()
    annotation = llmtap.annotate(JOIN, "human_feedback", "bad", explanation="wrong city", annotator_kind="end_user")
    assert annotation.pending
    assert [a.id for a in llmtap.annotations.pending_annotations()] == [annotation.id]
    with llmtap.tags(message_id="m-999"), llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Other"):
        pass
    with llmtap.tags(message_id="m-123"), llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi"):
        pass
    other, matched = state.telemetry.genai_spans()
    first, resolved = state.records()
    assert record_ids(first) == (0, 0)  # emitted at once with the join key, for a store or backend to resolve
    assert record_ids(resolved) == ids(matched)  # then again, linked, with the same annotation id
    assert resolved.log_record.attributes["llmtap.annotation.id"] == annotation.id
    assert dict(resolved.log_record.attributes) == dict(first.log_record.attributes)
    assert matched.attributes["llmtap.annotation.human_feedback"] == "bad"
    assert "llmtap.annotation.human_feedback" not in other.attributes
    assert llmtap.annotations.pending_annotations() == []


def test_a_label_set_on_the_span_resolves_when_it_ends(annotating: Setup) -> None:
    state = annotating()
    annotation = llmtap.annotate(JOIN, "human_feedback", "good")
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        span.set_tag("message_id", "m-123")
    recorded = state.telemetry.only_span()
    assert [record_ids(record) for record in state.records()] == [(0, 0), ids(recorded)]
    assert "llmtap.annotation.human_feedback" not in recorded.attributes  # it had ended: the log record links it
    assert len(pending.holder()) == 0
    assert state.records()[1].log_record.attributes["llmtap.annotation.id"] == annotation.id


def test_numbers_and_booleans_join_as_text(annotating: Setup) -> None:
    state = annotating()
    llmtap.annotate({"join": {"label": "message_id", "value": 42}}, "human_feedback", "good")
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi", tags={"message_id": "42"}):
        pass
    assert record_ids(state.records()[1]) == ids(state.telemetry.only_span())


def _pending(number: int, created_at: datetime) -> Annotation:
    return Annotation(
        id=f"a{number}",
        name="human_feedback",
        value="good",
        score=1.0,
        explanation=None,
        schema_version=2,
        target=Target("span", join=JoinKey("message_id", f"m-{number}")),
        annotator=None,
        annotator_kind="end_user",
        created_at=created_at,
        label="good",
    )


def test_the_in_memory_holder_is_bounded_and_reports_old_ones() -> None:
    holder = pending.InMemoryPending(capacity=3)
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    for number in range(5):
        holder.add(_pending(number, now - timedelta(minutes=50 - number * 10)))
    assert len(holder) == 3
    assert holder.released == 2
    assert [a.id for a in holder.older_than(timedelta(minutes=15), now=now)] == ["a2", "a3"]
    assert holder.join_labels() == frozenset({"message_id"})
    assert [a.id for a in holder.take(JoinKey("message_id", "m-3"))] == ["a3"]
    assert holder.take(JoinKey("message_id", "m-3")) == []
    assert holder.lookup(JoinKey("message_id", "m-4")) is None
    assert holder.join_labels() == frozenset({"message_id"})
    holder.take(JoinKey("message_id", "m-2"))
    holder.take(JoinKey("message_id", "m-4"))
    assert (len(holder), holder.join_labels()) == (0, frozenset())


def test_cli_pending_reports_old_ones_of_the_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTAP_STORE", str(tmp_path / "none.db"))  # no store file: this process's holder
    now = datetime.now(UTC)
    previous = pending.set_holder(pending.InMemoryPending())
    try:
        pending.holder().add(_pending(1, now - timedelta(hours=3)))
        pending.holder().add(_pending(2, now - timedelta(seconds=5)))
        result = CliRunner().invoke(main, ["annotations", "pending", "--older-than", "2h"])
        assert result.exit_code == 1, result.output
        lines = result.output.splitlines()
        assert lines[0].endswith("  a1  human_feedback='good'  waiting for message_id='m-1'")
        assert lines[1] == "1 of 2 pending annotation(s) older than 2h (kept in this process's memory)"
        result = CliRunner().invoke(main, ["annotations", "pending", "--older-than", "1s", "--json"])
        assert [json.loads(line)["id"] for line in result.output.splitlines()] == ["a1", "a2"]
        result = CliRunner().invoke(main, ["annotations", "pending", "--older-than", "1d"])
        assert (result.exit_code, result.output) == (
            0,
            "0 of 2 pending annotation(s) older than 1d (kept in this process's memory)\n",
        )
        result = CliRunner().invoke(main, ["annotations", "pending", "--older-than", "soon"])
        assert result.exit_code == 2
        assert "'soon': expected an age such as 90s, 10m, 2h or 1d" in result.output
    finally:
        pending.set_holder(previous)
