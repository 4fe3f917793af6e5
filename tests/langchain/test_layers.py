"""One API call, one model span (`llmtap.layers`): the lowest llmtap model span of a call is its only one.

Any LangChain model that calls an instrumented SDK (a partner model, a custom model, an LLM) gets no span
of its own: the provider SDK's span is the model span, in the run's place in the tree, with the run's
facts, and it alone carries usage and records metrics. A model that calls no instrumented SDK is the
model span itself, with usage and metrics.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.language_models.llms import LLM
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_openai import ChatOpenAI

import openai
from tests.langchain.support import tree
from tests.support import openai_wire as wire
from tests.support.cost import with_cost
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


def usage_sum(telemetry: Telemetry) -> int:
    """`gen_ai.usage.input_tokens` summed over every span, as backends bill a trace."""
    return sum(span.attributes.get("gen_ai.usage.input_tokens", 0) for span in telemetry.spans())


def test_custom_chat_model_calling_the_sdk_is_one_model_span(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/v1/chat/completions", Reply(body=wire.chat_completion("Hi!")))
    model = HouseChatModel(base_url=f"{api.base_url}/v1")

    with instrumented.tracer_provider.get_tracer("app").start_as_current_span("request"):
        assert model.invoke("hello").content == "Hi!"

    assert tree(instrumented.spans()) == [("request", ["chat gpt-4o-mini"])]
    sdk = instrumented.only_span()
    assert sdk.attributes["gen_ai.provider.name"] == "openai"
    assert (sdk.attributes["gen_ai.usage.input_tokens"], sdk.attributes["gen_ai.usage.output_tokens"]) == (12, 5)
    assert sdk.attributes["gen_ai.response.id"] == "chatcmpl-CXtap0001"
    assert sdk.attributes["llmtap.langchain.model_class"] == "HouseChatModel"
    assert sdk.attributes["llmtap.langchain.ls_provider"] == "housechatmodel"
    assert len(sdk.attributes["llmtap.langchain.run_id"]) == 36
    assert usage_sum(instrumented) == 12
    assert token_points(instrumented) == [("openai", "input", 12, 1), ("openai", "output", 5, 1)]
    assert duration_points(instrumented) == [("openai", 1)]


def test_custom_llm_calling_the_sdk_is_one_model_span(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/v1/chat/completions", Reply(body=wire.chat_completion("Hi!")))
    model = HouseLLM(base_url=f"{api.base_url}/v1")

    assert model.invoke("hello") == "Hi!"

    sdk = instrumented.only_span()
    assert sdk.name == "chat gpt-4o-mini"
    assert sdk.attributes["llmtap.langchain.model_class"] == "HouseLLM"
    assert sdk.attributes["llmtap.langchain.ls_model_type"] == "llm"
    assert attribute_json(sdk, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hi!"}], "finish_reason": "stop"}
    ]
    assert token_points(instrumented) == [("openai", "input", 12, 1), ("openai", "output", 5, 1)]
    assert duration_points(instrumented) == [("openai", 1)]


def test_sync_stream_through_chat_openai_is_one_model_span(instrumented: Telemetry, api: LoopbackAPI) -> None:
    chunks = wire.chat_chunks(["Bon", "jour"], usage=wire.chat_usage(9, 2))
    api.route("POST", "/v1/chat/completions", Reply(events=chunks))
    model = ChatOpenAI(model="gpt-4o-mini", api_key=KEY, base_url=f"{api.base_url}/v1", stream_usage=True)

    assert "".join(str(chunk.content) for chunk in model.stream("hello")) == "Bonjour"

    span = instrumented.only_span()
    assert span.name == "chat gpt-4o-mini"
    assert span.attributes["llmtap.stream.outcome"] == "completed"
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["llmtap.langchain.model_class"] == "ChatOpenAI"
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
    span = instrumented.only_span()
    assert (span.attributes["gen_ai.usage.input_tokens"], span.attributes["gen_ai.usage.output_tokens"]) == (4, 1)
    assert usage_sum(instrumented) == 4
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


def test_chat_anthropic_is_one_model_span_counted_once(instrumented: Telemetry, api: LoopbackAPI) -> None:
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

    assert model.invoke("Say hello in French", config={"tags": ["fr"]}).content == "Bonjour!"

    assert [span.instrumentation_scope.name for span in instrumented.spans()] == ["llmtap"]
    span = instrumented.only_span()
    attributes = dict(span.attributes)
    assert len(attributes.pop("llmtap.langchain.run_id")) == 36
    assert json.loads(attributes.pop("gen_ai.input.messages")) == [
        {"role": "user", "parts": [{"type": "text", "content": "Say hello in French"}]}
    ]
    assert json.loads(attributes.pop("gen_ai.output.messages")) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Bonjour!"}], "finish_reason": "stop"}
    ]
    assert attributes == with_cost({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-5-5",
        "server.address": "127.0.0.1",
        "server.port": api.port,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.response.id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "gen_ai.response.model": "claude-sonnet-5-5",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 28,  # 20 uncached + 8 read from the cache
        "gen_ai.usage.output_tokens": 4,
        "gen_ai.usage.cache_read.input_tokens": 8,
        "gen_ai.usage.cache_creation.input_tokens": 0,
        "anthropic.message.stop_reason": "end_turn",
        "anthropic.response.service_tier": "standard",
        "llmtap.langchain.tags": ("fr",),
        "llmtap.langchain.model_class": "ChatAnthropic",
        "llmtap.langchain.ls_provider": "anthropic",
        "llmtap.langchain.ls_model_name": "claude-sonnet-5-5",
        "llmtap.langchain.ls_model_type": "chat",
        "llmtap.langchain.ls_max_tokens": 64,
        "llmtap.langchain.ls_integration": "langchain_chat_model",
    })
    assert usage_sum(instrumented) == 28
    assert token_points(instrumented) == [("anthropic", "input", 28, 1), ("anthropic", "output", 4, 1)]
    assert duration_points(instrumented) == [("anthropic", 1)]


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
    span = instrumented.only_span()  # the Anthropic SDK's: it reads the API's usage itself
    assert span.attributes["gen_ai.usage.input_tokens"] == 18  # 10 uncached + 5 read + 3 written
    assert span.attributes["gen_ai.usage.cache_read.input_tokens"] == 5
    assert span.attributes["gen_ai.usage.cache_creation.input_tokens"] == 3
    assert token_points(instrumented) == [("anthropic", "input", 18, 1), ("anthropic", "output", 4, 1)]
