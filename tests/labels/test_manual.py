"""The manual `LLMTracer` API: the seed's example verbatim, nesting, errors."""

from __future__ import annotations

import pytest
from opentelemetry.trace import SpanKind, StatusCode

import llmtap
import openai
from tests.labels.conftest import Setup, tag_attributes
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import attribute_json

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1764201600,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris.", "refusal": None},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
}


def test_seed_example(labelled: Setup) -> None:
    telemetry = labelled()
    tracer = llmtap.LLMTracer()
    with tracer.trace_llm_call(
        model_name="gpt-4", prompt="What is the capital of France?", tags={"user_id": "u1", "app_feature": "qa"}
    ) as span:
        span.set_response("Paris is the capital of France.")
        span.set_tag("human_feedback", "good")
        span.set_usage(input_tokens=8, output_tokens=7)
        ref = span.ref
    recorded = telemetry.only_span()
    assert ref == llmtap.SpanRef(format(recorded.context.trace_id, "032x"), format(recorded.context.span_id, "016x"))
    assert recorded.name == "chat gpt-4"
    assert recorded.kind is SpanKind.CLIENT
    assert recorded.status.status_code is StatusCode.UNSET
    assert dict(recorded.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "custom",
        "gen_ai.request.model": "gpt-4",
        "llmtap.tag.user_id": "u1",
        "user.id": "u1",
        "llmtap.tag.app_feature": "qa",
        "llmtap.tag.human_feedback": "good",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 8,
        "gen_ai.usage.output_tokens": 7,
        "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text",'
        '"content":"What is the capital of France?"}]}]',
        "gen_ai.output.messages": '[{"role":"assistant","parts":[{"type":"text",'
        '"content":"Paris is the capital of France."}],"finish_reason":"stop"}]',
    }
    assert [point.sum for point in telemetry.metric_points("gen_ai.client.token.usage")] == [8, 7]
    assert llmtap.current_tags() == {}


def test_prompt_property_and_messages(labelled: Setup) -> None:
    telemetry = labelled()
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    with llmtap.LLMTracer(provider="vllm").trace_llm_call(model_name="llama-3", messages=messages) as span:
        assert span.prompt == messages
    recorded = telemetry.only_span()
    assert recorded.attributes["gen_ai.provider.name"] == "vllm"
    assert attribute_json(recorded, "gen_ai.input.messages") == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Hi"}]},
    ]


def test_block_raising_ends_with_error_and_labels_restored(labelled: Setup) -> None:
    telemetry = labelled()
    with pytest.raises(TimeoutError, match="model server timed out"):
        with llmtap.LLMTracer().trace_llm_call(model_name="m", prompt="p", tags={"user_id": "u9"}):
            raise TimeoutError("model server timed out")
    recorded = telemetry.only_span()
    assert recorded.status.status_code is StatusCode.ERROR
    assert recorded.status.description == "model server timed out"
    assert recorded.attributes["error.type"] == "TimeoutError"
    assert recorded.attributes["llmtap.tag.user_id"] == "u9"
    assert llmtap.current_tags() == {}


def test_strict_set_tag_raises_and_the_span_still_ends(labelled: Setup) -> None:
    telemetry = labelled(mode="strict")
    with pytest.raises(llmtap.LabelError, match=r"^label human_feedback='meh': expected one of good, bad$"):
        with llmtap.LLMTracer().trace_llm_call(model_name="m", prompt="p") as span:
            span.set_tag("human_feedback", "meh")
    recorded = telemetry.only_span()
    assert recorded.attributes["error.type"] == "LabelError"


def test_auto_instrumented_call_nests_and_sdk_response_is_read(labelled: Setup, api: LoopbackAPI) -> None:
    telemetry = labelled()
    api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
    client = openai.OpenAI(api_key="sk-test-000000", base_url=f"{api.base_url}/v1", max_retries=0)
    with llmtap.LLMTracer().trace_llm_call(model_name="router", prompt="capital?", tags={"user_id": "u5"}) as span:
        response = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "capital?"}]
        )
        span.set_response(response)
    inner, outer = telemetry.genai_spans()
    assert inner.name == "chat gpt-4o-mini"
    assert inner.parent.span_id == outer.context.span_id
    assert tag_attributes(inner) == {"llmtap.tag.user_id": "u5", "user.id": "u5"}
    assert llmtap.span_of(response) == llmtap.SpanRef(
        format(inner.context.trace_id, "032x"), format(inner.context.span_id, "016x")
    )
    assert outer.attributes["gen_ai.response.id"] == "chatcmpl-1"
    assert outer.attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert outer.attributes["gen_ai.usage.input_tokens"] == 9
    assert outer.attributes["gen_ai.usage.output_tokens"] == 2
    assert attribute_json(outer, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Paris."}], "finish_reason": "stop"}
    ]
