"""Offline demo: an OpenAI app instrumented by llmtap, talking to a local fake of the API.

No API key, no network: a loopback server answers in the exact wire format of the public API.
Run it with `bash scripts/demo.sh` (the fake API lives with the tests, in tests/support).
"""

from __future__ import annotations

import asyncio
import json

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply, Request

import llmtap

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _chat(request: Request) -> Reply:
    body = request.body
    if body.get("stream"):
        usage = wire.chat_usage(11, 4) if (body.get("stream_options") or {}).get("include_usage") else None
        return Reply(events=wire.chat_chunks(["Paris ", "is ", "lovely ", "in ", "spring."], usage=usage))
    if body.get("tools"):
        completion = wire.chat_completion("", finish_reason="tool_calls", usage=wire.chat_usage(60, 38))
        message = completion["choices"][0]["message"]
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": f"call_{city}",
                "type": "function",
                "function": {"name": "get_weather", "arguments": json.dumps({"city": city})},
            }
            for city in ("Paris", "Oslo")
        ]
        return Reply(body=completion)
    if body["model"] == "gpt-unknown":
        message = "The model `gpt-unknown` does not exist or you do not have access to it."
        return Reply(404, wire.error_body(message, kind="invalid_request_error", code="model_not_found"))
    return Reply(body=wire.chat_completion("Bonjour! How can I help?", usage=wire.chat_usage(21, 7, cached_tokens=16)))


def _responses(request: Request) -> Reply:
    return Reply(
        events=wire.response_events(["Three ", "primary ", "colours: ", "red, ", "yellow, ", "blue."]),
        done_marker=False,
    )


def _show(span) -> None:
    attributes = dict(span.attributes)
    print(f"\n● {span.name}   [{span.kind.name}, status {span.status.status_code.name}]")
    print(f"  trace {span.context.trace_id:032x}  span {span.context.span_id:016x}")
    for key in sorted(attributes):
        value = attributes[key]
        if key in ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.tool.definitions"):
            value = json.dumps(json.loads(value))
            value = value if len(value) < 150 else value[:147] + "..."
        print(f"  {key} = {value}")


async def _async_call(client) -> None:
    await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello from async"}]
    )


def main() -> None:
    import openai

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    metrics = InMemoryMetricReader()

    llmtap.instrument(tracer_provider=tracer_provider, meter_provider=MeterProvider(metric_readers=[metrics]))

    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", _chat)
        api.route("POST", "/v1/responses", _responses)
        client = openai.OpenAI(api_key="sk-demo-not-a-real-key", base_url=f"{api.base_url}/v1", max_retries=0)

        print("1. a chat completion")
        reply = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Say hello in French"},
            ],
            temperature=0.3,
        )
        print("   app got:", reply.choices[0].message.content, "| span_of(reply) =", llmtap.span_of(reply))

        print("2. a chat completion that calls two tools")
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Weather in Paris and Oslo?"}],
            tools=[WEATHER_TOOL],
        )

        print("3. a streamed chat, read to the end")
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Tell me about Paris"}], stream=True
        )
        print("   app got:", "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices))

        print("4. a streamed chat the app abandons after two chunks")
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Tell me about Paris"}], stream=True
        )
        for number, _chunk in enumerate(stream):
            if number == 2:
                break
        stream.close()

        print("5. an async chat completion")
        asyncio.run(_async_call(openai.AsyncOpenAI(api_key="sk-demo-not-a-real-key", base_url=f"{api.base_url}/v1")))

        print("6. the Responses API, streamed through the responses.stream() helper")
        with client.responses.stream(model="gpt-4.1-mini", input="Name the primary colours") as events:
            print("   app got:", events.get_final_response().output_text)

        print("7. an API error")
        try:
            client.chat.completions.create(model="gpt-unknown", messages=[{"role": "user", "content": "hi"}])
        except openai.NotFoundError as error:
            print("   app got its own exception:", type(error).__name__)

    print("\n=== spans exported by llmtap ===")
    for span in exporter.get_finished_spans():
        _show(span)

    print("\n=== metrics ===")
    for resource_metrics in metrics.get_metrics_data().resource_metrics:
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    kind = point.attributes.get("gen_ai.token.type", "")
                    model = point.attributes.get("gen_ai.request.model")
                    print(f"  {metric.name} {kind} [{model}]: count={point.count} sum={point.sum:g}")
    llmtap.uninstrument()


if __name__ == "__main__":
    main()
