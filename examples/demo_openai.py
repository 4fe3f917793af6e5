"""Part 1 · OpenAI: chat, tool calls, streams (read fully and abandoned), async, Responses API, an API error.

The fake API (`serve`) answers in the exact wire format of the public API (tests/support/openai_wire.py).
"""

from __future__ import annotations

import asyncio

from demo_output import Telemetry, app, header
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply, Request

import openai

KEY = "sk-demo-not-a-real-key"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
# What the fake API answers, by the last message's first words; other parts add their own.
ANSWERS = {"Say hello in French": "Bonjour! How can I help?"}


def _last_text(body: dict) -> str:
    content = body["messages"][-1]["content"]
    return content if isinstance(content, str) else " ".join(part.get("text", "") for part in content)


def _chat(request: Request) -> Reply:
    body = request.body
    if body["model"] == "gpt-unknown":
        message = "The model `gpt-unknown` does not exist or you do not have access to it."
        return Reply(404, wire.error_body(message, kind="invalid_request_error", code="model_not_found"))
    if body.get("stream"):
        usage = wire.chat_usage(11, 5) if (body.get("stream_options") or {}).get("include_usage") else None
        return Reply(events=wire.chat_chunks(["Paris ", "is ", "lovely ", "in ", "spring."], usage=usage))
    if body.get("tools"):
        completion = wire.chat_completion("", finish_reason="tool_calls", usage=wire.chat_usage(60, 38))
        message = completion["choices"][0]["message"]
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": f"call_{city}",
                "type": "function",
                "function": {"name": "get_weather", "arguments": f'{{"city":"{city}"}}'},
            }
            for city in ("Paris", "Oslo")
        ]
        return Reply(body=completion)
    question = _last_text(body)
    answer = next((text for start, text in ANSWERS.items() if question.startswith(start)), "OK.")
    prompt_tokens = sum(4 + len(str(message.get("content", "")).split()) for message in body["messages"])
    return Reply(body=wire.chat_completion(answer, usage=wire.chat_usage(prompt_tokens, len(answer.split()) + 1)))


def _responses(request: Request) -> Reply:
    pieces = ["Three ", "primary ", "colours: ", "red, ", "yellow, ", "blue."]
    return Reply(events=wire.response_events(pieces), done_marker=False)


def serve(api: LoopbackAPI) -> None:
    api.route("POST", "/v1/chat/completions", _chat)
    api.route("POST", "/v1/responses", _responses)


def client(api: LoopbackAPI) -> openai.OpenAI:
    return openai.OpenAI(api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0)


async def _async_chat(api: LoopbackAPI) -> str:
    async_client = openai.AsyncOpenAI(api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0)
    reply = await async_client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello in French, asynchronously"}]
    )
    await async_client.close()
    return reply.choices[0].message.content


def run(api: LoopbackAPI, telemetry: Telemetry) -> None:
    header(1, "OpenAI: chat, tool calls, streams, async, Responses API, an API error")
    oai = client(api)

    reply = oai.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hello in French"}],
        temperature=0.3,
    )
    app("chat:", reply.choices[0].message.content)

    reply = oai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Weather in Paris and Oslo?"}], tools=[WEATHER_TOOL]
    )
    app("tool calls:", [call.function.arguments for call in reply.choices[0].message.tool_calls])

    stream = oai.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Tell me about Paris"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    app("stream read to the end:", "".join(c.choices[0].delta.content or "" for c in stream if c.choices))

    stream = oai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Tell me about Paris"}], stream=True
    )
    for number, _chunk in enumerate(stream):
        if number == 2:
            break  # the app stops reading after two chunks...
    stream.close()  # ...and closes the stream: llmtap ends the span as "abandoned"
    app("stream abandoned after 2 chunks")

    app("async chat:", asyncio.run(_async_chat(api)))

    with oai.responses.stream(model="gpt-4.1-mini", input="Name the primary colours") as events:
        app("responses.stream():", events.get_final_response().output_text)

    try:
        oai.chat.completions.create(model="gpt-unknown", messages=[{"role": "user", "content": "hi"}])
    except openai.NotFoundError as error:
        app("API error: the app got the SDK's own exception,", type(error).__name__)

    telemetry.show_new_spans()
