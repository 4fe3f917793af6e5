"""Cancellation is no error, for every kind of call (`llmtap.record.is_cancellation`): a call cancelled by
`asyncio.timeout` / `wait_for` (a client gone, a deadline) ends with status UNSET, no `error.type` on the
span or the duration metric point, and `llmtap.cancelled=true`, on the SDK span and the LangChain span."""

from __future__ import annotations

import asyncio
import time

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableLambda
from opentelemetry.trace import StatusCode

import anthropic
import llmtap
import openai
from tests.support import anthropic_wire
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply, Request
from tests.support.telemetry import Telemetry


def slow(reply: Reply, seconds: float = 1.0):
    def handler(request: Request) -> Reply:
        time.sleep(seconds)  # the client has given up by then
        return reply

    return handler


def check_cancelled(span, telemetry: Telemetry) -> None:
    assert span.status.status_code is StatusCode.UNSET, span.status.description
    assert "error.type" not in span.attributes
    assert span.attributes["llmtap.cancelled"] is True
    assert not span.events  # no exception event either


def duration_points(telemetry: Telemetry) -> list[dict]:
    return [dict(p.attributes) for p in telemetry.metric_points("gen_ai.client.operation.duration")]


@pytest.mark.parametrize("how", ["timeout", "wait_for"])
async def test_cancelled_async_openai_call(instrumented: Telemetry, api: LoopbackAPI, how: str) -> None:
    api.route("POST", "/v1/chat/completions", slow(Reply(body=wire.chat_completion("late"))))
    client = openai.AsyncOpenAI(api_key="sk-test-000000", base_url=f"{api.base_url}/v1", max_retries=0)
    call = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])

    with pytest.raises(TimeoutError):
        if how == "timeout":
            async with asyncio.timeout(0.2):
                await call
        else:
            await asyncio.wait_for(call, 0.2)

    span = instrumented.only_span()
    assert span.name == "chat gpt-4o-mini"
    check_cancelled(span, instrumented)
    [point] = duration_points(instrumented)
    assert point == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "server.address": "127.0.0.1",
        "server.port": api.port,
    }


async def test_cancelled_async_anthropic_call(instrumented: Telemetry, api: LoopbackAPI) -> None:
    body = anthropic_wire.message([{"type": "text", "text": "late", "citations": None}])
    api.route("POST", "/v1/messages", slow(Reply(body=body)))
    client = anthropic.AsyncAnthropic(api_key="sk-ant-test-000000", base_url=api.base_url, max_retries=0)

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await client.messages.create(
                model="claude-sonnet-5-5", max_tokens=32, messages=[{"role": "user", "content": "hi"}]
            )

    span = instrumented.only_span()
    assert span.name == "chat claude-sonnet-5-5"
    check_cancelled(span, instrumented)
    [point] = duration_points(instrumented)
    assert "error.type" not in point and point["gen_ai.provider.name"] == "anthropic"


async def test_cancelled_langchain_chain_and_model(instrumented: Telemetry) -> None:
    """A fake model (no SDK below: the LangChain model span is the model span) inside a chain, cancelled."""

    class SlowModel(GenericFakeChatModel):
        async def _agenerate(self, *args, **kwargs):
            await asyncio.sleep(5)
            return await super()._agenerate(*args, **kwargs)

    async def prep(text: str) -> str:  # async: runs on the loop, no executor thread
        return text

    model = SlowModel(messages=iter([AIMessage(content="late")]))
    chain = (RunnableLambda(prep, name="prep") | model).with_config(run_name="ask")

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(chain.ainvoke("hi"), 0.2)

    spans = {span.name: span for span in instrumented.genai_spans()}
    assert sorted(spans) == ["chat", "invoke_workflow ask", "invoke_workflow prep"]
    for name in ("chat", "invoke_workflow ask"):
        check_cancelled(spans[name], instrumented)
    assert "llmtap.cancelled" not in spans["invoke_workflow prep"].attributes  # it had finished
    [point] = duration_points(instrumented)
    assert "error.type" not in point


async def test_cancelled_manual_call(instrumented: Telemetry) -> None:
    async def call() -> None:
        with llmtap.LLMTracer().trace_llm_call(model_name="house-1", prompt="hi"):
            await asyncio.sleep(5)

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(call(), 0.05)

    check_cancelled(instrumented.only_span(), instrumented)
    [point] = duration_points(instrumented)
    assert "error.type" not in point


async def test_a_real_error_is_still_an_error(instrumented: Telemetry, api: LoopbackAPI) -> None:
    body = wire.error_body("Rate limit reached", kind="requests", code="rate_limit_exceeded")
    api.route("POST", "/v1/chat/completions", Reply(status=429, body=body))
    client = openai.AsyncOpenAI(api_key="sk-test-000000", base_url=f"{api.base_url}/v1", max_retries=0)

    with pytest.raises(openai.RateLimitError):
        await client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])

    span = instrumented.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "RateLimitError"
    assert "llmtap.cancelled" not in span.attributes
    [point] = duration_points(instrumented)
    assert point["error.type"] == "RateLimitError"
