"""The seed's manual API: `span.set_tag("human_feedback", "good")` becomes structured feedback."""

from __future__ import annotations

import pytest

import llmtap
from tests.annotations.conftest import Setup, ids, record_ids


def test_seed_set_tag_becomes_an_annotation(annotating: Setup) -> None:
    state = annotating()
    with llmtap.LLMTracer().trace_llm_call(
        model_name="gpt-4", prompt="What is the capital of France?", tags={"user_id": "u1"}
    ) as span:
        span.set_response("Paris is the capital of France.")
        span.set_tag("human_feedback", "good")
        span.set_usage(input_tokens=8, output_tokens=7)
    recorded = state.telemetry.only_span()
    assert recorded.attributes["llmtap.tag.human_feedback"] == "good"
    assert recorded.attributes["llmtap.annotation.human_feedback"] == "good"
    assert recorded.attributes["llmtap.annotation.human_feedback.score"] == 1.0
    record = state.only_record()
    assert record_ids(record) == ids(recorded)
    attributes = dict(record.log_record.attributes)
    assert attributes == {
        "gen_ai.evaluation.name": "human_feedback",
        "gen_ai.evaluation.score.value": 1.0,
        "gen_ai.evaluation.score.label": "good",
        "llmtap.annotation.id": attributes["llmtap.annotation.id"],
        "llmtap.annotation.value": "good",
        "llmtap.annotation.annotator_kind": "human",
        "llmtap.annotation.schema_version": 2,
        "llmtap.annotation.target.kind": "span",
    }
    assert len(attributes["llmtap.annotation.id"]) == 32


def test_set_tag_of_a_declared_annotation_is_checked_before_anything_is_set(annotating: Setup) -> None:
    state = annotating()
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        with pytest.raises(llmtap.AnnotationError) as raised:
            span.set_tag("human_feedback", "great")
    assert str(raised.value) == (
        "annotation 'human_feedback': value='great': expected one of good, bad (schema version 2)"
    )
    recorded = state.telemetry.only_span()
    assert "llmtap.tag.human_feedback" not in recorded.attributes
    assert state.records() == []


def test_set_tag_of_other_labels_makes_no_annotation(annotating: Setup) -> None:
    state = annotating()
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        span.set_tag("message_id", "m-1")
    assert state.telemetry.only_span().attributes["llmtap.tag.message_id"] == "m-1"
    assert state.records() == []


def test_set_tag_without_an_annotation_schema_is_only_a_tag(annotating: Setup) -> None:
    state = annotating(schema={})
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        span.set_tag("human_feedback", "good")
    assert state.telemetry.only_span().attributes["llmtap.tag.human_feedback"] == "good"
    assert state.records() == []


def test_annotate_on_a_disabled_handle_is_a_no_op(annotating: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTAP_ENABLED", "false")
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        assert span.annotate("human_feedback", "good") is None
        span.set_tag("human_feedback", "good")
