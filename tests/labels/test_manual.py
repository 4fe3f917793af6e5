"""The manual `LLMTracer` API: the seed's example verbatim, nesting, errors."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

import anthropic
import llmtap
import openai
from tests.labels.conftest import Setup, tag_attributes
from tests.support import anthropic_wire, openai_wire
from tests.support.cost import with_cost
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry, attribute_json

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
    assert dict(recorded.attributes) == with_cost({
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
    })
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
    # One API call, one model span (`llmtap.layers`): the SDK's; the manual span is its parent, without usage.
    assert outer.name == "invoke_workflow router"
    assert inner.attributes["gen_ai.response.id"] == "chatcmpl-1"
    assert inner.attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert inner.attributes["gen_ai.usage.input_tokens"] == 9
    assert inner.attributes["gen_ai.usage.output_tokens"] == 2
    for name in ("gen_ai.response.id", "gen_ai.response.model", "gen_ai.usage.input_tokens"):
        assert name not in outer.attributes
    assert outer.attributes["llmtap.layer.covered"] is True
    assert attribute_json(outer, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Paris."}], "finish_reason": "stop"}
    ]
    # the one API call is counted once, by the SDK span below the manual one (`llmtap.layers`)
    (input_point, output_point) = sorted(
        telemetry.metric_points("gen_ai.client.token.usage"), key=lambda point: point.attributes["gen_ai.token.type"]
    )
    assert (input_point.count, input_point.sum, output_point.count, output_point.sum) == (1, 9, 1, 2)
    durations = telemetry.metric_points("gen_ai.client.operation.duration")
    assert [point.attributes["gen_ai.request.model"] for point in durations] == ["gpt-4o-mini"]
    assert durations[0].count == 1


def _sdk_responses(api: LoopbackAPI) -> list[tuple[str, Any]]:
    """(request model, response object) from the real SDKs, each recorded by its plugin on the way."""
    chat = openai_wire.chat_completion(
        "", usage=openai_wire.chat_usage(20, 5, cached_tokens=8), finish_reason="tool_calls"
    )
    chat["choices"][0]["message"]["content"] = None
    chat["choices"][0]["message"]["tool_calls"] = [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
    ]
    message = anthropic_wire.message(
        [{"type": "text", "text": "Bonjour", "citations": None}],
        usage=anthropic_wire.usage(10, 4, cache_read=5, cache_creation=3),
    )
    api.route("POST", "/v1/chat/completions", Reply(body=chat))
    api.route("POST", "/v1/responses", Reply(body=openai_wire.response("Hi there")))
    api.route("POST", "/v1/messages", Reply(body=message, headers={"request-id": "req_011"}))
    openai_client = openai.OpenAI(api_key="sk-test-000000", base_url=f"{api.base_url}/v1", max_retries=0)
    anthropic_client = anthropic.Anthropic(api_key="sk-ant-test-000000", base_url=api.base_url, max_retries=0)
    hi = [{"role": "user", "content": "hi"}]
    return [
        ("gpt-4o-mini", openai_client.chat.completions.create(model="gpt-4o-mini", messages=hi)),
        ("gpt-4.1-mini", openai_client.responses.create(model="gpt-4.1-mini", input=hi)),
        ("claude-sonnet-5-5", anthropic_client.messages.create(model="claude-sonnet-5-5", max_tokens=10, messages=hi)),
    ]


def _without_transport(span: Any) -> dict[str, Any]:
    """A span's attributes less what only the HTTP request knows (server, request parameters, which API)."""
    return {
        key: value
        for key, value in span.attributes.items()
        if not key.startswith("server.") and key not in ("gen_ai.request.max_tokens", "openai.api.type")
    }


def test_set_response_records_an_sdk_object_exactly_as_its_plugin(instrumented: Telemetry, api: LoopbackAPI) -> None:
    responses = _sdk_responses(api)
    plugin_spans = instrumented.genai_spans()
    instrumented.exporter.clear()
    tracer = llmtap.LLMTracer()  # no provider given: the response's plugin names it
    for model, response in responses:
        with tracer.trace_llm_call(model_name=model, prompt="hi") as span:
            span.set_response(response)
    manual_spans = instrumented.genai_spans()
    assert [_without_transport(span) for span in manual_spans] == [_without_transport(span) for span in plugin_spans]
    assert _without_transport(manual_spans[0]) == with_cost({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]',
        "gen_ai.output.messages": '[{"role":"assistant","parts":[{"type":"tool_call","id":"call_1",'
        '"name":"get_weather","arguments":{"city":"Oslo"}}],"finish_reason":"tool_call"}]',
        "gen_ai.response.finish_reasons": ("tool_calls",),
        "gen_ai.response.id": "chatcmpl-CXtap0001",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.cache_read.input_tokens": 8,
        "gen_ai.usage.input_tokens": 20,
        "gen_ai.usage.output_tokens": 5,
        "gen_ai.usage.reasoning.output_tokens": 0,
        "openai.response.service_tier": "default",
        "openai.response.system_fingerprint": "fp_560af6e559",
    })
    assert _without_transport(manual_spans[2]) == with_cost({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-5-5",
        "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]',
        "gen_ai.output.messages": '[{"role":"assistant","parts":[{"type":"text","content":"Bonjour"}],'
        '"finish_reason":"stop"}]',
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.response.id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "gen_ai.response.model": "claude-sonnet-5-5",
        "gen_ai.usage.cache_creation.input_tokens": 3,
        "gen_ai.usage.cache_read.input_tokens": 5,
        "gen_ai.usage.input_tokens": 18,
        "gen_ai.usage.output_tokens": 4,
        "anthropic.message.stop_reason": "end_turn",
        "anthropic.request.id": "req_011",
        "anthropic.response.service_tier": "standard",
    })
    # the metrics too are recorded under the response's provider: one point per call, plugin (with a
    # server address) and manual (without)
    assert sorted(
        (point.attributes["gen_ai.provider.name"], point.attributes["gen_ai.token.type"], point.sum, by_plugin)
        for point in instrumented.metric_points("gen_ai.client.token.usage")
        for by_plugin in ["server.address" in point.attributes]
    ) == [
        (provider, kind, tokens, by_plugin)
        for provider, kind, tokens in [
            ("anthropic", "input", 18),
            ("anthropic", "output", 4),
            ("openai", "input", 14),
            ("openai", "input", 20),
            ("openai", "output", 5),
            ("openai", "output", 6),
        ]
        for by_plugin in (False, True)
    ]


def test_a_provider_given_is_kept_and_an_unknown_object_is_read_generically(
    instrumented: Telemetry, api: LoopbackAPI
) -> None:
    (_, completion), *_ = _sdk_responses(api)
    instrumented.exporter.clear()

    class Answer:  # a self-hosted model's own response type
        id = "gen-7"
        model = "llama-3-8b"
        usage = {"prompt_tokens": 11, "completion_tokens": 3}

        def __str__(self) -> str:
            return "Oslo."

    with llmtap.LLMTracer(provider="azure-proxy").trace_llm_call(model_name="gpt-4o-mini", prompt="hi") as span:
        span.set_response(completion)
    with llmtap.LLMTracer().trace_llm_call(model_name="llama-3", prompt="hi") as span:
        span.set_response(Answer())
    proxied, custom = instrumented.genai_spans()
    assert proxied.attributes["gen_ai.provider.name"] == "azure-proxy"
    assert proxied.attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert {key: value for key, value in custom.attributes.items() if key.startswith("gen_ai.")} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "custom",
        "gen_ai.request.model": "llama-3",
        "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]',
        "gen_ai.output.messages": '[{"role":"assistant","parts":[{"type":"text","content":"Oslo."}],'
        '"finish_reason":"stop"}]',
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.response.id": "gen-7",
        "gen_ai.response.model": "llama-3-8b",
        "gen_ai.usage.input_tokens": 11,
        "gen_ai.usage.output_tokens": 3,
    }
