from __future__ import annotations

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI

from tests.langchain.support import named, tree
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry

COMPLETION = {
    "id": "chatcmpl-42",
    "object": "chat.completion",
    "created": 1764201600,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Bonjour!", "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 12,
        "completion_tokens": 3,
        "total_tokens": 15,
        "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    },
    "service_tier": "default",
    "system_fingerprint": "fp_1",
}


def test_provider_span_nests_under_chat_model_span_and_tokens_count_once(
    instrumented: Telemetry, api: LoopbackAPI
) -> None:
    api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
    model = ChatOpenAI(model="gpt-4o-mini", api_key="sk-test-000000", base_url=f"{api.base_url}/v1", temperature=0.2)
    chain = (
        ChatPromptTemplate.from_messages([("human", "Say hello in {lang}")]) | model | StrOutputParser()
    ).with_config(run_name="greet")

    assert chain.invoke({"lang": "French"}) == "Bonjour!"

    spans = instrumented.genai_spans()
    assert tree(spans) == [
        (
            "invoke_workflow greet",
            [
                "invoke_workflow ChatPromptTemplate",
                ("chat gpt-4o-mini", ["chat gpt-4o-mini"]),
                "invoke_workflow StrOutputParser",
            ],
        )
    ]
    outer, inner = sorted((s for s in spans if s.name == "chat gpt-4o-mini"), key=lambda s: s.start_time)
    assert inner.parent.span_id == outer.context.span_id
    assert "llmtap.langchain.run_id" in outer.attributes and "llmtap.langchain.run_id" not in inner.attributes
    for span in (outer, inner):
        assert span.attributes["gen_ai.provider.name"] == "openai"
        assert span.attributes["gen_ai.request.model"] == "gpt-4o-mini"
        assert span.attributes["gen_ai.request.temperature"] == 0.2
        assert span.attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
        assert span.attributes["gen_ai.usage.input_tokens"] == 12
        assert span.attributes["gen_ai.usage.output_tokens"] == 3
        assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == 4
        assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert outer.attributes["gen_ai.response.id"] == "chatcmpl-42"

    # Duplicate policy: one API call, one set of metrics (recorded by the provider span).
    tokens = instrumented.metric_points("gen_ai.client.token.usage")
    assert sorted((point.attributes["gen_ai.token.type"], point.sum, point.count) for point in tokens) == [
        ("input", 12, 1),
        ("output", 3, 1),
    ]
    durations = instrumented.metric_points("gen_ai.client.operation.duration")
    assert [point.count for point in durations] == [1]
    assert named(spans, "invoke_workflow greet").parent is None
