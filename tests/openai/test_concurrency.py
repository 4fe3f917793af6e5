"""Concurrent calls never cross-talk: each span carries its own prompt, its own response, its own parent."""

from __future__ import annotations

import asyncio
import threading

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

import openai
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply, Request
from tests.support.telemetry import Telemetry, attribute_json

CALLS = 50
THREADS = 8


def _echo(request: Request) -> Reply:
    """Answer `echo: <prompt>`; streamed (in three slow-ish pieces, to interleave) when asked to stream."""
    prompt = request.body["messages"][-1]["content"]
    number = prompt.rsplit("-", 1)[1]
    if request.body.get("stream"):
        chunks = wire.chat_chunks(["echo: ", prompt[:6], prompt[6:]], completion_id=f"chatcmpl-stream-{number}")
        return Reply(events=chunks, delay_between_events=0.01)
    return Reply(body=wire.chat_completion(f"echo: {prompt}", completion_id=f"chatcmpl-plain-{number}"))


def _check(span: ReadableSpan, parent: ReadableSpan, prompt: str, streamed: bool) -> None:
    number = prompt.rsplit("-", 1)[1]
    assert span.parent is not None
    assert span.parent.span_id == parent.context.span_id
    assert span.context.trace_id == parent.context.trace_id
    assert attribute_json(span, gen_ai.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": prompt}]}
    ]
    assert attribute_json(span, gen_ai.GEN_AI_OUTPUT_MESSAGES) == [
        {"role": "assistant", "parts": [{"type": "text", "content": f"echo: {prompt}"}], "finish_reason": "stop"}
    ]
    kind = "stream" if streamed else "plain"
    assert span.attributes[gen_ai.GEN_AI_RESPONSE_ID] == f"chatcmpl-{kind}-{number}"
    if streamed:
        assert span.attributes["llmtap.stream.outcome"] == "completed"


def _pairs(telemetry: Telemetry) -> dict[str, tuple[ReadableSpan, ReadableSpan]]:
    """prompt -> (llmtap span, the caller's parent span), matched through the parent span's name."""
    spans = telemetry.spans()
    parents = {span.name: span for span in spans if span.name.startswith("caller ")}
    result = {}
    for span in telemetry.genai_spans():
        prompt = attribute_json(span, gen_ai.GEN_AI_INPUT_MESSAGES)[0]["parts"][0]["content"]
        result[prompt] = (span, parents[f"caller {prompt}"])
    return result


def _wide_backlog(api: LoopbackAPI) -> None:
    """The loopback server listens with socketserver's backlog of 5; 50 simultaneous connects need more."""


async def test_fifty_concurrent_async_calls(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/chat/completions", _echo)
    _wide_backlog(api)
    client = openai.AsyncOpenAI(api_key="sk-test-concurrency", base_url=api.base_url + "/", max_retries=0)
    tracer = instrumented.tracer_provider.get_tracer("app")

    async def one(number: int) -> tuple[str, str]:
        prompt = f"prompt-{number:03d}"
        streamed = number % 2 == 1
        with tracer.start_as_current_span(f"caller {prompt}"):
            await asyncio.sleep(0)
            messages = [{"role": "user", "content": prompt}]
            if streamed:
                stream = await client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True)
                text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
            else:
                completion = await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
                text = completion.choices[0].message.content
        return prompt, text

    results = await asyncio.gather(*(one(number) for number in range(CALLS)))

    assert results == [(f"prompt-{n:03d}", f"echo: prompt-{n:03d}") for n in range(CALLS)]
    pairs = _pairs(instrumented)
    assert sorted(pairs) == [f"prompt-{n:03d}" for n in range(CALLS)]
    for prompt, (span, parent) in pairs.items():
        _check(span, parent, prompt, streamed=int(prompt[-3:]) % 2 == 1)
    assert len({parent.context.trace_id for _, parent in pairs.values()}) == CALLS


def test_eight_threads_sync_client(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/chat/completions", _echo)
    client = openai.OpenAI(api_key="sk-test-concurrency", base_url=api.base_url + "/", max_retries=0)
    tracer = instrumented.tracer_provider.get_tracer("app")
    start = threading.Barrier(THREADS)
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def worker(thread: int) -> None:
        try:
            start.wait(10)
            for call in range(4):
                number = thread * 10 + call
                prompt = f"prompt-{number:03d}"
                messages = [{"role": "user", "content": prompt}]
                with tracer.start_as_current_span(f"caller {prompt}"):
                    if number % 2 == 1:
                        stream = client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True)
                        results[prompt] = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
                    else:
                        completion = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
                        results[prompt] = completion.choices[0].message.content
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    expected = [f"prompt-{t * 10 + c:03d}" for t in range(THREADS) for c in range(4)]
    assert results == {prompt: f"echo: {prompt}" for prompt in expected}
    pairs = _pairs(instrumented)
    assert sorted(pairs) == sorted(expected)
    for prompt, (span, parent) in pairs.items():
        _check(span, parent, prompt, streamed=int(prompt[-3:]) % 2 == 1)
