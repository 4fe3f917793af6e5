"""Every target kind: SpanRef, span, span handle, SDK response object, trace id, session, join key."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import trace

import llmtap
import openai
from tests.annotations.conftest import Setup, ids, record_ids
from tests.support import openai_wire
from tests.support.loopback import LoopbackAPI, Reply

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


def _common(annotation: Any) -> dict[str, Any]:
    return {
        "gen_ai.evaluation.name": "human_feedback",
        "gen_ai.evaluation.score.value": 1.0,
        "gen_ai.evaluation.score.label": "good",
        "llmtap.annotation.id": annotation.id,
        "llmtap.annotation.value": "good",
        "llmtap.annotation.annotator_kind": "human",
        "llmtap.annotation.schema_version": 2,
    }


def test_span_ref_of_an_ended_span(annotating: Setup) -> None:
    state = annotating()
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        ref = span.ref
    annotation = llmtap.annotate(ref, "human_feedback", "good", annotator="reviewer-7", metadata={"ticket": 12})
    recorded = state.telemetry.only_span()
    record = state.only_record()
    assert record_ids(record) == ids(recorded)
    assert record.log_record.event_name == "gen_ai.evaluation.result"
    assert dict(record.log_record.attributes) == {
        **_common(annotation),
        "llmtap.annotation.annotator": "reviewer-7",
        "llmtap.annotation.target.kind": "span",
        "llmtap.annotation.metadata": '{"ticket":12}',
    }
    assert annotation.target.as_dict() == {"kind": "span", "trace_id": ref.trace_id, "span_id": ref.span_id}
    assert record.log_record.timestamp == int(annotation.created_at.timestamp() * 1_000_000) * 1000
    assert not any(key.startswith("llmtap.annotation") for key in recorded.attributes)


def test_span_ref_of_the_current_open_span_lands_on_it(annotating: Setup) -> None:
    state = annotating()
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi"):
        llmtap.annotate(llmtap.current_span_ref(), "human_feedback", "good")
    recorded = state.telemetry.only_span()
    assert record_ids(state.only_record()) == ids(recorded)
    assert recorded.attributes["llmtap.annotation.human_feedback"] == "good"
    assert recorded.attributes["llmtap.annotation.human_feedback.score"] == 1.0


def test_an_open_otel_span(annotating: Setup) -> None:
    state = annotating()
    tracer = state.telemetry.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("handler") as span:
        llmtap.annotate(span, "quality", 4, explanation="clear", annotator_kind="human")
    recorded = state.telemetry.spans()[0]
    assert record_ids(state.only_record()) == ids(recorded)
    assert recorded.attributes["llmtap.annotation.quality"] == 4
    assert "llmtap.annotation.quality.score" not in recorded.attributes


def test_the_span_handle_and_its_annotate(annotating: Setup) -> None:
    state = annotating()
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        first = span.annotate("topic", "tech", annotator_kind="code")
        second = llmtap.annotate(span, "topic", "billing")
    recorded = state.telemetry.only_span()
    assert [record_ids(record) for record in state.records()] == [ids(recorded), ids(recorded)]
    assert (first.annotator_kind, first.value, second.value) == ("code", "tech", "billing")
    assert recorded.attributes["llmtap.annotation.topic"] == "billing"  # the later one wins on the span


def test_an_sdk_response_object(annotating: Setup, api: LoopbackAPI) -> None:
    state = annotating()
    api.route("POST", "/v1/chat/completions", Reply(body=openai_wire.chat_completion("Paris.")))
    client = openai.OpenAI(api_key="sk-test-000000", base_url=f"{api.base_url}/v1", max_retries=0)
    response = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Capital?"}])
    annotation = llmtap.annotate(response, "human_feedback", "good")
    recorded = state.telemetry.only_span()
    record = state.only_record()
    assert record_ids(record) == ids(recorded)
    assert dict(record.log_record.attributes) == {
        **_common(annotation),
        "gen_ai.response.id": "chatcmpl-CXtap0001",
        "llmtap.annotation.target.kind": "span",
    }


def test_an_object_no_span_produced(annotating: Setup) -> None:
    annotating()
    with pytest.raises(llmtap.AnnotationError) as raised:
        llmtap.annotate(object(), "human_feedback", "good")
    assert str(raised.value).startswith("target=<object object at ")
    assert str(raised.value).endswith(
        ">: no span is known for this object; expected a SpanRef, a span, an SDK response object llmtap recorded, "
        "a trace id (32 hex digits), {'session_id': ...} or {'join': {'label': ..., 'value': ...}}"
    )


def test_a_trace_id(annotating: Setup) -> None:
    state = annotating()
    annotation = llmtap.annotate(TRACE_ID.upper(), "human_feedback", "good")
    record = state.only_record()
    assert record_ids(record) == (int(TRACE_ID, 16), 0)
    assert dict(record.log_record.attributes) == {**_common(annotation), "llmtap.annotation.target.kind": "trace"}
    assert annotation.target.as_dict() == {"kind": "trace", "trace_id": TRACE_ID}


def test_a_session_is_not_linked_to_the_current_span(annotating: Setup) -> None:
    state = annotating()
    with state.telemetry.tracer_provider.get_tracer("app").start_as_current_span("handler"):
        annotation = llmtap.annotate({"session_id": "sess-42"}, "resolved", "yes", annotator_kind="end_user")
    record = state.only_record()
    assert record_ids(record) == (0, 0)
    assert dict(record.log_record.attributes) == {
        "gen_ai.evaluation.name": "resolved",
        "gen_ai.evaluation.score.value": 1.0,
        "gen_ai.evaluation.score.label": "true",
        "llmtap.annotation.id": annotation.id,
        "llmtap.annotation.value": True,
        "llmtap.annotation.annotator_kind": "end_user",
        "llmtap.annotation.schema_version": 1,
        "llmtap.annotation.target.kind": "session",
        "session.id": "sess-42",
    }


def test_trace_and_span_ids_as_a_mapping(annotating: Setup) -> None:
    state = annotating()
    llmtap.annotate({"trace_id": TRACE_ID, "span_id": "B7AD6B7169203331"}, "human_feedback", "good")
    assert record_ids(state.only_record()) == (int(TRACE_ID, 16), int("b7ad6b7169203331", 16))


def test_a_join_key_resolved_at_once_by_an_open_span_is_pending_until_then(annotating: Setup) -> None:
    state = annotating()
    annotation = llmtap.annotate({"join": {"label": "message_id", "value": "m-123"}}, "human_feedback", "good")
    assert annotation.pending
    assert annotation.target.as_dict() == {"kind": "span", "join": {"label": "message_id", "value": "m-123"}}
    record = state.only_record()
    assert record_ids(record) == (0, 0)
    assert dict(record.log_record.attributes) == {
        **_common(annotation),
        "llmtap.annotation.target.kind": "span",
        "llmtap.annotation.join.label": "message_id",
        "llmtap.annotation.join.value": "m-123",
    }


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "not-a-trace",
            "target='not-a-trace': not a trace id; expected a SpanRef, a span, an SDK response object llmtap "
            "recorded, a trace id (32 hex digits), {'session_id': ...} or {'join': {'label': ..., 'value': ...}}",
        ),
        (
            "0" * 32,
            "target='00000000000000000000000000000000': not a trace id; expected a SpanRef, a span, an SDK response "
            "object llmtap recorded, a trace id (32 hex digits), {'session_id': ...} or {'join': {'label': ..., "
            "'value': ...}}",
        ),
        (
            llmtap.SpanRef("abc", "def"),
            "target=SpanRef(trace_id='abc', span_id='def'): expected a SpanRef of 32 and 16 lowercase hex digits, "
            "e.g. from llmtap.span_of()",
        ),
        ({"session_id": ""}, "target session_id='': expected a non-empty string"),
        (
            {"user": "u1"},
            "target={'user': 'u1'}: expected a SpanRef, a span, an SDK response object llmtap recorded, a trace id "
            "(32 hex digits), {'session_id': ...} or {'join': {'label': ..., 'value': ...}}",
        ),
        (
            {"join": {"label": "message_id"}},
            "target={'join': {'label': 'message_id'}}: expected {'join': {'label': ..., 'value': ...}}",
        ),
        (
            {"join": {"label": "msg", "value": "m-1"}},
            "target join label='msg': not a declared label; expected one of human_feedback, message_id, user_id",
        ),
        (
            {"join": {"label": "message_id", "value": ""}},
            "target join value='': expected a non-empty string, a number or a boolean",
        ),
        (trace.INVALID_SPAN, None),
    ],
)
def test_bad_targets(annotating: Setup, target: Any, message: str | None) -> None:
    state = annotating()
    with pytest.raises(llmtap.AnnotationError) as raised:
        llmtap.annotate(target, "human_feedback", "good")
    if message is None:
        assert str(raised.value).startswith("target=NonRecordingSpan(SpanContext(trace_id=0x0000")
        assert "the span is not valid (no trace id)" in str(raised.value)
    else:
        assert str(raised.value) == message
    assert state.records() == []
