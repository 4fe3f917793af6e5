"""Concurrent Anthropic calls never cross-talk: each span has its own prompt, its own response, its own parent.

50 asyncio tasks on one `AsyncAnthropic` client and 8 threads on one `Anthropic` client, each call inside
a span of its own caller, against the loopback server (which echoes the prompt, slowly when streaming).
"""

from __future__ import annotations

import asyncio
import threading

from opentelemetry.sdk.trace import ReadableSpan

import anthropic
from tests.anthropic.conftest import API_KEY
from tests.support import anthropic_wire as wire
from tests.support.anthropic_wire import MODEL
from tests.support.loopback import LoopbackAPI, Reply, Request
from tests.support.telemetry import Telemetry, attribute_json

CALLS = 50
THREADS = 8
CALLS_PER_THREAD = 3
# Call kinds, by number % 3: a plain message, a raw stream (`stream=True`), the `messages.stream()` helper.
KINDS = ("plain", "raw", "helper")


def _echo(request: Request) -> Reply:
    prompt = request.body["messages"][-1]["content"]
    number = prompt.rsplit("-", 1)[1]
    final = wire.message([{"type": "text", "text": f"echo: {prompt}", "citations": None}], id=f"msg_{number}")
    headers = {"request-id": f"req_{number}"}
    if request.body.get("stream"):
        del final["content"][0]["citations"]
        events = wire.stream_events(final, pieces=3)
        return Reply(events=events, done_marker=False, delay_between_events=0.005, headers=headers)
    return Reply(body=final, headers=headers)


def _check(span: ReadableSpan, parent: ReadableSpan, prompt: str) -> None:
    number = prompt.rsplit("-", 1)[1]
    assert span.parent is not None
    assert span.parent.span_id == parent.context.span_id
    assert span.context.trace_id == parent.context.trace_id
    assert attribute_json(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": prompt}]}
    ]
    assert attribute_json(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": f"echo: {prompt}"}], "finish_reason": "stop"}
    ]
    assert span.attributes["gen_ai.response.id"] == f"msg_{number}"
    assert span.attributes["anthropic.request.id"] == f"req_{number}"
    kind = KINDS[int(number) % 3]
    assert span.attributes.get("llmtap.stream.outcome") == (None if kind == "plain" else "completed")


def _pairs(telemetry: Telemetry) -> dict[str, tuple[ReadableSpan, ReadableSpan]]:
    """prompt -> (llmtap span, the caller's span), matched through the caller span's name."""
    parents = {span.name: span for span in telemetry.spans() if span.name.startswith("caller ")}
    result = {}
    for span in telemetry.genai_spans():
        prompt = attribute_json(span, "gen_ai.input.messages")[0]["parts"][0]["content"]
        result[prompt] = (span, parents[f"caller {prompt}"])
    return result


def _request(prompt: str) -> dict[str, object]:
    return {"max_tokens": 64, "messages": [{"role": "user", "content": prompt}], "model": MODEL}


async def test_fifty_concurrent_async_calls(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/v1/messages", _echo)
    client = anthropic.AsyncAnthropic(api_key=API_KEY, base_url=api.base_url, max_retries=0)
    tracer = instrumented.tracer_provider.get_tracer("app")

    async def one(number: int) -> tuple[str, str]:
        prompt = f"prompt-{number:03d}"
        with tracer.start_as_current_span(f"caller {prompt}"):
            await asyncio.sleep(0)
            kind = KINDS[number % 3]
            if kind == "plain":
                message = await client.messages.create(**_request(prompt))
                text = message.content[0].text
            elif kind == "raw":
                stream = await client.messages.create(**_request(prompt), stream=True)
                text = "".join([event.delta.text async for event in stream if event.type == "content_block_delta"])
            else:
                async with client.messages.stream(**_request(prompt)) as helper:
                    text = "".join([piece async for piece in helper.text_stream])
        return prompt, text

    results = await asyncio.gather(*(one(number) for number in range(CALLS)))

    assert results == [(f"prompt-{n:03d}", f"echo: prompt-{n:03d}") for n in range(CALLS)]
    pairs = _pairs(instrumented)
    assert sorted(pairs) == [f"prompt-{n:03d}" for n in range(CALLS)]
    for prompt, (span, parent) in pairs.items():
        _check(span, parent, prompt)
    assert len({parent.context.trace_id for _, parent in pairs.values()}) == CALLS


def test_eight_threads_sync_client(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/v1/messages", _echo)
    client = anthropic.Anthropic(api_key=API_KEY, base_url=api.base_url, max_retries=0)
    tracer = instrumented.tracer_provider.get_tracer("app")
    start = threading.Barrier(THREADS)
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def worker(thread: int) -> None:
        try:
            start.wait(10)
            for call in range(CALLS_PER_THREAD):
                number = thread * 10 + call
                prompt = f"prompt-{number:03d}"
                with tracer.start_as_current_span(f"caller {prompt}"):
                    kind = KINDS[number % 3]
                    if kind == "plain":
                        results[prompt] = client.messages.create(**_request(prompt)).content[0].text
                    elif kind == "raw":
                        stream = client.messages.create(**_request(prompt), stream=True)
                        deltas = [event.delta.text for event in stream if event.type == "content_block_delta"]
                        results[prompt] = "".join(deltas)
                    else:
                        with client.messages.stream(**_request(prompt)) as helper:
                            results[prompt] = "".join(helper.text_stream)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    expected = [f"prompt-{t * 10 + c:03d}" for t in range(THREADS) for c in range(CALLS_PER_THREAD)]
    assert results == {prompt: f"echo: {prompt}" for prompt in expected}
    pairs = _pairs(instrumented)
    assert sorted(pairs) == sorted(expected)
    for prompt, (span, parent) in pairs.items():
        _check(span, parent, prompt)
    assert len({parent.context.trace_id for _, parent in pairs.values()}) == THREADS * CALLS_PER_THREAD
