"""`LLMTAP_BACKEND_LABELS`: labels also where Phoenix, Langfuse and MLflow read filterable metadata."""

from __future__ import annotations

import json

import pytest

import llmtap
from tests.labels.conftest import Setup
from tests.support.telemetry import Telemetry

BACKEND_PREFIXES = ("metadata", "langfuse.", "mlflow.")


def backend_attributes(span) -> dict:
    return {key: value for key, value in span.attributes.items() if key.startswith(BACKEND_PREFIXES)}


def test_off_by_default(labelled: Setup) -> None:
    telemetry = labelled(tags="deployment=prod")
    with llmtap.tags(user_id="u1"):
        telemetry.tracer_provider.get_tracer("app").start_span("step").end()
    [span] = telemetry.spans()
    assert span.attributes["llmtap.tag.deployment"] == "prod"
    assert backend_attributes(span) == {}


def test_labels_from_every_source_as_backend_metadata(labelled: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTAP_BACKEND_LABELS", "true")
    telemetry = labelled(tags="deployment=prod,feature_flag=new-rag")
    tracer = telemetry.tracer_provider.get_tracer("app")
    with llmtap.tags(user_id="u1", retries=2, beta=True, feature_flag="old-rag"):
        tracer.start_span("step").end()
        with llmtap.LLMTracer().trace_llm_call(model_name="m", prompt="hi") as call:
            call.set_response("ok")
            call.set_tag("human_feedback", "good")  # set on the span itself: merged into what it has
    step, llm = telemetry.spans()

    labels = {"deployment": "prod", "feature_flag": "old-rag", "user_id": "u1", "retries": 2, "beta": True}
    texts = {"deployment": "prod", "feature_flag": "old-rag", "user_id": "u1", "retries": "2", "beta": "true"}
    expected = {
        "metadata": json.dumps(labels, separators=(",", ":")),  # Phoenix / OpenInference: one JSON object
        **{f"langfuse.trace.metadata.{key}": value for key, value in texts.items()},  # Langfuse: one per key
        **{f"mlflow.traceTag.{key}": value for key, value in texts.items()},  # MLflow: trace tags
    }
    assert backend_attributes(step) == expected
    assert json.loads(llm.attributes["metadata"]) == {**labels, "human_feedback": "good"}
    assert llm.attributes["langfuse.trace.metadata.human_feedback"] == "good"
    assert llm.attributes["mlflow.traceTag.human_feedback"] == "good"


def test_config_key(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LLMTAP_BACKEND_LABELS", "LLMTAP_TAGS", "LLMTAP_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    llmtap.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        config={"backend_labels": True, "tags": {"team": "search"}},
    )
    try:
        telemetry.tracer_provider.get_tracer("app").start_span("step").end()
    finally:
        llmtap.uninstrument()
    [span] = telemetry.spans()
    assert backend_attributes(span) == {
        "metadata": '{"team":"search"}',
        "langfuse.trace.metadata.team": "search",
        "mlflow.traceTag.team": "search",
    }


def test_a_bad_value_names_the_setting() -> None:
    from llmtap.config import load_settings

    with pytest.raises(llmtap.ConfigError, match=r"LLMTAP_BACKEND_LABELS='maybe': expected a boolean"):
        load_settings(environ={"LLMTAP_BACKEND_LABELS": "maybe"}, config={}, strict=True)
    assert load_settings(environ={}, config={"backend_labels": "yes"}).backend_labels is True
