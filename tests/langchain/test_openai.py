from __future__ import annotations

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI

from tests.langchain.support import named, tree
from tests.support.cost import with_cost
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


def test_chat_openai_in_a_chain_is_one_model_span_the_sdk_span_with_the_runs_facts(
    instrumented: Telemetry, api: LoopbackAPI
) -> None:
    """One API call, one model span (`llmtap.layers`): the OpenAI SDK's, in the LangChain model run's place."""
    api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
    model = ChatOpenAI(model="gpt-4o-mini", api_key="sk-test-000000", base_url=f"{api.base_url}/v1", temperature=0.2)
    chain = (
        ChatPromptTemplate.from_messages([("human", "Say hello in {lang}")]) | model | StrOutputParser()
    ).with_config(run_name="greet", tags=["greeting"], metadata={"team": "fr"})

    assert chain.invoke({"lang": "French"}) == "Bonjour!"

    spans = instrumented.genai_spans()
    assert tree(spans) == [
        (
            "invoke_workflow greet",
            ["invoke_workflow ChatPromptTemplate", "chat gpt-4o-mini", "invoke_workflow StrOutputParser"],
        )
    ]
    span = named(spans, "chat gpt-4o-mini")
    assert span.parent.span_id == named(spans, "invoke_workflow greet").context.span_id
    attributes = dict(span.attributes)
    run_id = attributes.pop("llmtap.langchain.run_id")
    assert len(run_id) == 36
    attributes.pop("gen_ai.input.messages"), attributes.pop("gen_ai.output.messages")
    assert attributes == with_cost({
        # the SDK's record of the API call
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "openai.api.type": "chat_completions",
        "server.address": "127.0.0.1",
        "server.port": api.port,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.response.id": "chatcmpl-42",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 3,
        "gen_ai.usage.cache_read.input_tokens": 4,
        "gen_ai.usage.reasoning.output_tokens": 0,
        "openai.response.service_tier": "default",
        "openai.response.system_fingerprint": "fp_1",
        # the LangChain model run's facts
        "llmtap.langchain.tags": ("greeting",),
        "llmtap.langchain.metadata.team": "fr",
        "llmtap.langchain.model_class": "ChatOpenAI",
        "llmtap.langchain.ls_provider": "openai",
        "llmtap.langchain.ls_model_name": "gpt-4o-mini",
        "llmtap.langchain.ls_model_type": "chat",
        "llmtap.langchain.ls_temperature": 0.2,
        "llmtap.langchain.ls_integration": "langchain_chat_model",
    })
    # usage is on one span of the trace only
    assert sum(s.attributes.get("gen_ai.usage.input_tokens", 0) for s in instrumented.spans()) == 12

    tokens = instrumented.metric_points("gen_ai.client.token.usage")
    assert sorted((point.attributes["gen_ai.token.type"], point.sum, point.count) for point in tokens) == [
        ("input", 12, 1),
        ("output", 3, 1),
    ]
    durations = instrumented.metric_points("gen_ai.client.operation.duration")
    assert [point.count for point in durations] == [1]
    assert named(spans, "invoke_workflow greet").parent is None
