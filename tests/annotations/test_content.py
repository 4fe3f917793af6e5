"""Content policy: explanations and text values are content, exported only under content capture or when safe."""

from __future__ import annotations

import pytest

import llmtap
from tests.annotations.conftest import Setup

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


def test_content_captured(annotating: Setup) -> None:
    state = annotating()
    annotation = llmtap.annotate(TRACE_ID, "correction", "Paris, not Lyon.", explanation="the user said so")
    attributes = dict(state.only_record().log_record.attributes)
    assert attributes["gen_ai.evaluation.explanation"] == "the user said so"
    assert attributes["llmtap.annotation.value"] == "Paris, not Lyon."
    assert "gen_ai.evaluation.score.label" not in attributes
    assert annotation.explanation == "the user said so"


def test_content_off_withholds_explanations_and_text(annotating: Setup) -> None:
    state = annotating(capture_content=False)
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        text = span.annotate("correction", "My address is 1 Main St.", explanation="private detail")
        score = span.annotate("human_feedback", "bad", explanation="my card number is 4111 1111 1111 1111")
    correction, feedback = (dict(record.log_record.attributes) for record in state.records())
    assert correction == {
        "gen_ai.evaluation.name": "correction",
        "llmtap.annotation.id": text.id,
        "llmtap.annotation.annotator_kind": "human",
        "llmtap.annotation.schema_version": 1,
        "llmtap.annotation.target.kind": "span",
    }
    assert feedback == {
        "gen_ai.evaluation.name": "human_feedback",
        "gen_ai.evaluation.score.value": 0.0,
        "gen_ai.evaluation.score.label": "bad",
        "llmtap.annotation.id": score.id,
        "llmtap.annotation.value": "bad",
        "llmtap.annotation.annotator_kind": "human",
        "llmtap.annotation.schema_version": 2,
        "llmtap.annotation.target.kind": "span",
    }
    recorded = state.telemetry.only_span()
    assert "llmtap.annotation.correction" not in recorded.attributes
    assert recorded.attributes["llmtap.annotation.human_feedback"] == "bad"
    exported = state.telemetry.everything_exported() + "".join(record.to_json() for record in state.records())
    for secret in ("1 Main St", "private detail", "4111 1111"):  # spaced: ids and times are never
        assert secret not in exported
    assert (text.value, text.explanation) == ("My address is 1 Main St.", "private detail")  # the caller's own copy


def test_a_safe_schema_exports_them_under_content_off(annotating: Setup) -> None:
    state = annotating(capture_content=False)
    llmtap.annotate(TRACE_ID, "reason_code", "E42-timeout", explanation="from the ticket system")
    attributes = dict(state.only_record().log_record.attributes)
    assert attributes["llmtap.annotation.value"] == "E42-timeout"
    assert attributes["gen_ai.evaluation.explanation"] == "from the ticket system"


def test_explanations_are_truncated_like_content(annotating: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTAP_MAX_CONTENT_CHARS", "10")
    state = annotating()
    llmtap.annotate(TRACE_ID, "human_feedback", "bad", explanation="x" * 25)
    attributes = dict(state.only_record().log_record.attributes)
    assert attributes["gen_ai.evaluation.explanation"] == "x" * 10
    assert attributes["llmtap.truncated.gen_ai.evaluation.explanation"] == 15
