"""Required labels on live LLM spans, and the `llmtap.labels.dropped` counter."""

from __future__ import annotations

import logging

import pytest
from opentelemetry import baggage
from opentelemetry import context as otel_context

import llmtap
import openai
from tests.labels.conftest import Setup, tag_attributes
from tests.labels.test_manual import COMPLETION
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry

MISSING_USER_ID = (
    "llmtap: LLM span 'chat gpt-4o-mini' has no label 'user_id', which the label schema marks required; "
    "expected it from LLMTAP_TAGS, llmtap.tags(...) or baggage (LLMTAP_LABELS_MODE={mode}; logged once per label)"
)


def dropped(telemetry: Telemetry) -> dict[tuple[str, str], int]:
    """`llmtap.labels.dropped` as {(key, reason): count}."""
    return {
        (point.attributes["llmtap.label.key"], point.attributes["llmtap.label.reason"]): point.value
        for point in telemetry.metric_points("llmtap.labels.dropped")
    }


def chat(api: LoopbackAPI) -> openai.types.chat.ChatCompletion:
    client = openai.OpenAI(api_key="sk-test-000000", base_url=f"{api.base_url}/v1", max_retries=0)
    return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "capital?"}])


@pytest.mark.parametrize("mode", ["warn", "strict", "drop"])
def test_llm_span_without_a_required_label_is_counted_and_logged_once_in_every_mode(
    labelled: Setup, api: LoopbackAPI, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    telemetry = labelled(mode=mode)
    caplog.set_level(logging.WARNING, logger="llmtap")
    api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
    with llmtap.tags(app_feature="qa"):
        first = chat(api)  # no LabelError out of the SDK call, even in strict mode
        second = chat(api)
    with llmtap.tags(user_id="u1"):
        chat(api)
    assert first.choices[0].message.content == "Paris." and second.id == "chatcmpl-1"
    assert [tag_attributes(span) for span in telemetry.genai_spans()] == [
        {"llmtap.tag.app_feature": "qa"},
        {"llmtap.tag.app_feature": "qa"},
        {"llmtap.tag.user_id": "u1", "user.id": "u1"},
    ]
    assert [record.getMessage() for record in caplog.records] == [MISSING_USER_ID.format(mode=mode)]
    assert dropped(telemetry) == {("user_id", "missing_required"): 2}
    assert llmtap.labels.dropped_counts() == {}  # missing is not dropped


def test_non_llm_and_structure_spans_are_not_checked(labelled: Setup) -> None:
    telemetry = labelled()

    @llmtap.tool
    def lookup(city: str) -> str:
        return city.upper()

    @llmtap.workflow(name="pipeline")
    def pipeline() -> str:
        with telemetry.tracer_provider.get_tracer("web").start_as_current_span("GET /answer"):
            return lookup("paris")

    assert pipeline() == "PARIS"
    assert [span.name for span in telemetry.spans()] == [
        "execute_tool lookup",
        "GET /answer",
        "invoke_workflow pipeline",
    ]
    assert dropped(telemetry) == {}


def test_required_label_from_set_tag_baggage_or_env_is_enough(
    labelled: Setup, api: LoopbackAPI, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    telemetry = labelled()
    caplog.set_level(logging.WARNING, logger="llmtap")
    api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
    with llmtap.LLMTracer().trace_llm_call(model_name="llama-3", prompt="hi") as span:
        span.set_tag("user_id", "u7")  # set on the span itself, after it started
    token = otel_context.attach(baggage.set_baggage("user_id", "upstream"))  # user_id is propagate = true
    try:
        chat(api)
    finally:
        otel_context.detach(token)
    llmtap.uninstrument()
    monkeypatch.setenv("LLMTAP_TAGS", "user_id=service-account")
    telemetry = labelled()
    chat(api)
    assert [span.attributes["llmtap.tag.user_id"] for span in telemetry.genai_spans()] == [
        "u7",
        "upstream",
        "service-account",
    ]
    assert dropped(telemetry) == {}
    # The manual span set no usage: it gets no cost, and says so once; nothing about labels is logged.
    assert [record.getMessage() for record in caplog.records] == [
        "llmtap: no cost recorded for custom/llama-3: the response reported no token usage"
    ]


def test_drop_mode_counts_unknown_keys_and_bad_values_in_the_metric(labelled: Setup) -> None:
    telemetry = labelled(mode="drop", tags="retries=x")  # checked before the pipeline exists: recorded later
    tracer = telemetry.tracer_provider.get_tracer("web")
    for _ in range(2):
        with llmtap.tags(user_id="u1", temperature="hot", colour="red"):
            tracer.start_span("s").end()
    assert dropped(telemetry) == {
        ("retries", "bad_value"): 1,
        ("temperature", "bad_value"): 2,
        ("colour", "unknown_key"): 2,
    }
    assert llmtap.labels.dropped_counts() == {"retries": 1, "temperature": 2, "colour": 2}


def test_warn_mode_keeps_bad_labels_and_counts_nothing(labelled: Setup) -> None:
    telemetry = labelled(mode="warn")
    with llmtap.tags(user_id="u1", temperature="hot", colour="red"):
        telemetry.tracer_provider.get_tracer("web").start_span("s").end()
    assert tag_attributes(telemetry.spans()[0]) == {
        "llmtap.tag.user_id": "u1",
        "user.id": "u1",
        "llmtap.tag.temperature": "hot",
        "llmtap.tag.colour": "red",
    }
    assert dropped(telemetry) == {}


def test_current_tags_returns_the_normalised_typed_values_the_span_carries(labelled: Setup) -> None:
    telemetry = labelled(tags="retries=3,beta=off")
    with llmtap.tags(temperature="0.25", user_id=42, feature_flag="new-rag"):
        current = llmtap.current_tags()
        telemetry.tracer_provider.get_tracer("web").start_span("s").end()
    assert current == {"retries": 3, "beta": False, "temperature": 0.25, "user_id": "42", "feature_flag": "new-rag"}
    assert {key: type(value) for key, value in current.items()} == {
        "retries": int,
        "beta": bool,
        "temperature": float,
        "user_id": str,
        "feature_flag": str,
    }
    attributes = tag_attributes(telemetry.spans()[0])
    assert {key: attributes[f"llmtap.tag.{key}"] for key in current} == current
    assert {key: type(attributes[f"llmtap.tag.{key}"]) for key in current} == {
        key: type(value) for key, value in current.items()
    }
