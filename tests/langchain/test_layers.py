"""The duplicate policy (`llmtap.layers`): every API call's metrics are recorded once, by the lowest llmtap span.

Any LangChain model that calls an instrumented SDK (a partner model, a custom model, an LLM) gets the
provider span nested under its model span, and only the provider span records metrics; a model that
calls no instrumented SDK records them on its LangChain span.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.language_models.llms import LLM
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_openai import ChatOpenAI

import openai
from tests.langchain.support import named, tree
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry, attribute_json

KEY = "sk-test-000000"
USAGE = {"input_tokens": 4, "output_tokens": 1, "total_tokens": 5}


def client(api: LoopbackAPI) -> openai.OpenAI:
    return openai.OpenAI(api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0)


class HouseChatModel(BaseChatModel):
    """A custom chat model that calls the openai SDK itself."""

    base_url: str

    @property
    def _llm_type(self) -> str:
        return "house"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        sdk = openai.OpenAI(api_key=KEY, base_url=self.base_url, max_retries=0)
        reply = sdk.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": str(messages[-1].content)}]
        )
        usage = {"input_tokens": reply.usage.prompt_tokens, "output_tokens": reply.usage.completion_tokens}
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
        message = AIMessage(content=reply.choices[0].message.content, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])


class HouseLLM(LLM):
    """A custom text LLM (a `BaseLLM`) that calls the openai SDK itself."""

    base_url: str

    @property
    def _llm_type(self) -> str:
        return "house-llm"

    def _call(self, prompt: str, stop: Any = None, run_manager: Any = None, **kw: Any) -> str:
        sdk = openai.OpenAI(api_key=KEY, base_url=self.base_url, max_retries=0)
        reply = sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}])
        return reply.choices[0].message.content or ""


def token_points(telemetry: Telemetry) -> list[tuple[str, str, int, int]]:
    return sorted(
        (p.attributes["gen_ai.provider.name"], p.attributes["gen_ai.token.type"], p.sum, p.count)
        for p in telemetry.metric_points("gen_ai.client.token.usage")
    )


def duration_points(telemetry: Telemetry) -> list[tuple[str, int]]:
    return sorted(
        (p.attributes["gen_ai.provider.name"], p.count)
        for p in telemetry.metric_points("gen_ai.client.operation.duration")
    )


def test_custom_chat_model_calling_the_sdk_is_counted_once(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/v1/chat/completions", Reply(body=wire.chat_completion("Hi!")))
    model = HouseChatModel(base_url=f"{api.base_url}/v1")

    assert model.invoke("hello").content == "Hi!"

    spans = instrumented.genai_spans()
    assert tree(spans) == [("chat", ["chat gpt-4o-mini"])]
    house, sdk = named(spans, "chat"), named(spans, "chat gpt-4o-mini")
    assert sdk.parent.span_id == house.context.span_id
    assert house.attributes["gen_ai.provider.name"] == "housechatmodel"
    assert (house.attributes["gen_ai.usage.input_tokens"], house.attributes["gen_ai.usage.output_tokens"]) == (12, 5)
    assert sdk.attributes["gen_ai.provider.name"] == "openai"
    assert token_points(instrumented) == [("openai", "input", 12, 1), ("openai", "output", 5, 1)]
    assert duration_points(instrumented) == [("openai", 1)]


def test_custom_llm_is_current_while_its_sdk_call_runs(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/v1/chat/completions", Reply(body=wire.chat_completion("Hi!")))
    model = HouseLLM(base_url=f"{api.base_url}/v1")

    assert model.invoke("hello") == "Hi!"

    spans = instrumented.genai_spans()
    assert tree(spans) == [("text_completion", ["chat gpt-4o-mini"])]
    llm = named(spans, "text_completion")
    assert llm.attributes["gen_ai.provider.name"] == "house"
    assert attribute_json(llm, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hi!"}], "finish_reason": "stop"}
    ]
    assert token_points(instrumented) == [("openai", "input", 12, 1), ("openai", "output", 5, 1)]
    assert duration_points(instrumented) == [("openai", 1)]


def test_sync_stream_through_chat_openai_nests_the_provider_span(instrumented: Telemetry, api: LoopbackAPI) -> None:
    chunks = wire.chat_chunks(["Bon", "jour"], usage=wire.chat_usage(9, 2))
    api.route("POST", "/v1/chat/completions", Reply(events=chunks))
    model = ChatOpenAI(model="gpt-4o-mini", api_key=KEY, base_url=f"{api.base_url}/v1", stream_usage=True)

    assert "".join(str(chunk.content) for chunk in model.stream("hello")) == "Bonjour"

    spans = instrumented.genai_spans()
    assert tree(spans) == [("chat gpt-4o-mini", ["chat gpt-4o-mini"])]
    outer, inner = sorted(spans, key=lambda span: span.start_time)
    assert inner.parent.span_id == outer.context.span_id
    assert inner.attributes["llmtap.stream.outcome"] == "completed"
    assert inner.attributes["gen_ai.request.stream"] is True
    assert outer.attributes["llmtap.stream.outcome"] == "completed"
    for span in (outer, inner):
        assert (span.attributes["gen_ai.usage.input_tokens"], span.attributes["gen_ai.usage.output_tokens"]) == (9, 2)
        assert span.attributes["gen_ai.response.time_to_first_chunk"] > 0
        assert attribute_json(span, "gen_ai.output.messages") == [
            {"role": "assistant", "parts": [{"type": "text", "content": "Bonjour"}], "finish_reason": "stop"}
        ]
    assert token_points(instrumented) == [("openai", "input", 9, 1), ("openai", "output", 2, 1)]
    assert duration_points(instrumented) == [("openai", 1)]


def test_a_model_without_an_instrumented_sdk_records_the_metrics_itself(instrumented: Telemetry) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="ok", usage_metadata=USAGE)]))

    assert model.invoke("hello").content == "ok"

    assert tree(instrumented.genai_spans()) == ["chat"]
    assert token_points(instrumented) == [
        ("genericfakechatmodel", "input", 4, 1),
        ("genericfakechatmodel", "output", 1, 1),
    ]
    assert duration_points(instrumented) == [("genericfakechatmodel", 1)]


def test_the_layer_ends_with_the_model_call(instrumented: Telemetry, api: LoopbackAPI) -> None:
    """An SDK call after the model call (same task) is not counted against the finished LangChain span."""
    api.route("POST", "/v1/chat/completions", Reply(body=wire.chat_completion("Hi!")))
    model = GenericFakeChatModel(messages=iter([AIMessage(content="ok", usage_metadata=USAGE)]))

    model.invoke("hello")
    client(api).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])

    assert tree(instrumented.genai_spans()) == ["chat", "chat gpt-4o-mini"]
    assert duration_points(instrumented) == [("genericfakechatmodel", 1), ("openai", 1)]


def test_chat_anthropic_nests_the_provider_span_and_counts_once(instrumented: Telemetry, api: LoopbackAPI) -> None:
    from langchain_anthropic import ChatAnthropic

    from tests.support import anthropic_wire

    body = anthropic_wire.message(
        [{"type": "text", "text": "Bonjour!", "citations": None}],
        usage=anthropic_wire.usage(20, 4, cache_read=8),
    )
    api.route("POST", "/v1/messages", Reply(body=body))
    model = ChatAnthropic(
        model="claude-sonnet-5-5", api_key="sk-ant-test-000000", base_url=api.base_url, max_tokens=64, max_retries=0
    )

    assert model.invoke("Say hello in French").content == "Bonjour!"

    spans = instrumented.genai_spans()
    assert [span.instrumentation_scope.name for span in instrumented.spans()] == ["llmtap", "llmtap"]
    assert tree(spans) == [("chat claude-sonnet-5-5", ["chat claude-sonnet-5-5"])]
    outer, inner = sorted(spans, key=lambda span: span.start_time)
    assert inner.parent.span_id == outer.context.span_id
    assert "llmtap.langchain.run_id" in outer.attributes and "llmtap.langchain.run_id" not in inner.attributes
    for span in (outer, inner):
        assert span.attributes["gen_ai.provider.name"] == "anthropic"
        assert span.attributes["gen_ai.request.max_tokens"] == 64
        assert span.attributes["gen_ai.response.id"] == "msg_01XFDUDYJgAACzvnptvVoYEL"
        assert span.attributes["gen_ai.usage.input_tokens"] == 28  # 20 uncached + 8 read from the cache
        assert span.attributes["gen_ai.usage.output_tokens"] == 4
        assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == 8
        assert span.attributes["gen_ai.usage.cache_creation.input_tokens"] == 0
    assert token_points(instrumented) == [("anthropic", "input", 28, 1), ("anthropic", "output", 4, 1)]
    assert duration_points(instrumented) == [("anthropic", 1)]
    # Finish reasons: the LangChain span keeps Anthropic's raw `stop_reason` in gen_ai.response.finish_reasons,
    # both spans' output messages carry the semconv value.
    assert outer.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)
    assert inner.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    for span in (outer, inner):
        assert attribute_json(span, "gen_ai.output.messages") == [
            {"role": "assistant", "parts": [{"type": "text", "content": "Bonjour!"}], "finish_reason": "stop"}
        ]


@pytest.mark.parametrize(("five_minutes", "one_hour"), [(3, 0), (1, 2), (0, 3)])
def test_chat_anthropic_cache_writes_reported_by_ttl_are_counted(
    instrumented: Telemetry, api: LoopbackAPI, five_minutes: int, one_hour: int
) -> None:
    """langchain-anthropic reports cache writes by TTL (`ephemeral_5m_input_tokens`, `ephemeral_1h_input_tokens`)
    and then sets `cache_creation` to 0."""
    from langchain_anthropic import ChatAnthropic

    from tests.support import anthropic_wire

    usage = anthropic_wire.usage(10, 4, cache_read=5, cache_creation=3)
    usage["cache_creation"] = {"ephemeral_5m_input_tokens": five_minutes, "ephemeral_1h_input_tokens": one_hour}
    body = anthropic_wire.message([{"type": "text", "text": "Bonjour", "citations": None}], usage=usage)
    api.route("POST", "/v1/messages", Reply(body=body))
    model = ChatAnthropic(model="claude-sonnet-5-5", api_key="sk-ant-test-000000", base_url=api.base_url, max_retries=0)

    reply = model.invoke("hi")

    assert reply.usage_metadata["input_token_details"] == {
        "cache_read": 5,
        "cache_creation": 0,
        "ephemeral_5m_input_tokens": five_minutes,
        "ephemeral_1h_input_tokens": one_hour,
    }
    spans = instrumented.genai_spans()
    assert tree(spans) == [("chat claude-sonnet-5-5", ["chat claude-sonnet-5-5"])]
    for span in spans:  # the LangChain span agrees with the Anthropic SDK span
        assert span.attributes["gen_ai.usage.input_tokens"] == 18  # 10 uncached + 5 read + 3 written
        assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == 5
        assert span.attributes["gen_ai.usage.cache_creation.input_tokens"] == 3
    assert token_points(instrumented) == [("anthropic", "input", 18, 1), ("anthropic", "output", 4, 1)]
