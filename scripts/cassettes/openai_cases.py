"""Requests (as SDK calls) and replies for every OpenAI cassette."""

import json

from openai_bodies import CREATED, chat_completion, choice, chunk, message, sse_chat, sse_events, tool_call, usage_chat
from pydantic import BaseModel
from tests.support.openai_requests import (
    INSTRUCTIONS,
    JSON_SCHEMA_FORMAT,
    QUESTION,
    TIME_TOOL,
    WEATHER_FN,
    WEATHER_TOOL,
)

J = lambda o: json.dumps(o, separators=(",", ":"))  # noqa: E731

CALL_WEATHER = "call_Qx7bW2nE5rT8yU1iO4pA6sDf"
CALL_TIME = "call_Lm3kJ9hG6fD2sA5zX8cV1bNq"
ASSISTANT_CALLS = [
    tool_call(CALL_WEATHER, "get_weather", '{"location":"Paris","unit":"celsius"}'),
    tool_call(CALL_TIME, "get_time", '{"timezone":"Europe/Paris"}'),
]


class CityAnswer(BaseModel):
    city: str
    country: str
    population_millions: float


RID = "req_8d1f4b2e6a9c4f0b9e3d7a5c1b2e4f60"


def json_reply(body, status=200, request_id=RID, extra=None):
    headers = {
        "content-type": "application/json",
        "openai-processing-ms": "412",
        "openai-version": "2020-10-01",
        "x-request-id": request_id,
    }
    headers.update(extra or {})
    return {"status": status, "headers": headers, "body": J(body)}


def sse_reply(text, request_id=RID):
    return {
        "status": 200,
        "headers": {
            "content-type": "text/event-stream; charset=utf-8",
            "openai-processing-ms": "187",
            "openai-version": "2020-10-01",
            "x-request-id": request_id,
        },
        "body": text,
    }


CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


# ---------------------------------------------------------------- chat
@case
def chat_plain():
    call = lambda c: c.chat.completions.create(  # noqa: E731
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Name a European capital as JSON."}],
        temperature=0.2,
        top_p=0.9,
        max_completion_tokens=120,
        stop=["END"],
        seed=42,
        frequency_penalty=0.1,
        presence_penalty=0.2,
        n=2,
        service_tier="default",
        response_format=JSON_SCHEMA_FORMAT,
    )
    body = chat_completion(
        "chatcmpl-CbQ2vXk9Rm4TzP7wY1nF3hJ6sLd8E",
        [
            choice(0, message('{"city":"Paris","country":"France"}'), "stop"),
            choice(1, message('{"city":"Vienna","country":"Austria"}'), "stop"),
        ],
        usage_chat(31, 22),
    )
    return call, json_reply(body, request_id="req_0b7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e")


@case
def chat_tools():
    call = lambda c: c.chat.completions.create(  # noqa: E731
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": QUESTION}],
        tools=[WEATHER_TOOL, TIME_TOOL],
    )
    body = chat_completion(
        "chatcmpl-CbQ3aZ5yWq2LxN8vB4mK7tR1pGh0J",
        [choice(0, message(None, ASSISTANT_CALLS), "tool_calls")],
        usage_chat(112, 51),
    )
    return call, json_reply(body, request_id="req_1c8d2e3f4a5b6c7d8e9f0a1b2c3d4e5f")


TOOL_RESULTS_MESSAGES = [
    {"role": "system", "content": "You are a concise travel assistant."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": QUESTION + " Also, what is in this photo?"},
            {
                "type": "image_url",
                "image_url": {
                    "url": "https://upload.wikimedia.org/wikipedia/commons/a/a8/Tour_Eiffel_Wikimedia_Commons.jpg",
                    "detail": "low",
                },
            },
            {
                "type": "image_url",
                "image_url": {
                    "url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
                },
            },
        ],
    },
    {"role": "assistant", "content": None, "tool_calls": ASSISTANT_CALLS},
    {"role": "tool", "tool_call_id": CALL_WEATHER, "content": '{"temperature_c":14,"conditions":"light rain"}'},
    {"role": "tool", "tool_call_id": CALL_TIME, "content": "2026-11-27T15:42:00+01:00"},
]
TOOL_RESULTS_ANSWER = (
    "It is 14 °C with light rain in Paris, and the local time is 15:42. The photo shows the Eiffel Tower."
)


@case
def chat_tool_results():
    call = lambda c: c.chat.completions.create(  # noqa: E731
        model="gpt-4o-mini",
        messages=TOOL_RESULTS_MESSAGES,
        tools=[WEATHER_TOOL, TIME_TOOL],
    )
    body = chat_completion(
        "chatcmpl-CbQ4dR8uYt1MwB6nC3xV9kE2qFj5H",
        [choice(0, message(TOOL_RESULTS_ANSWER), "stop")],
        usage_chat(1290, 33, cached=1152),
    )
    return call, json_reply(body, request_id="req_2d9e3f4a5b6c7d8e9f0a1b2c3d4e5f60")


STREAM_ID = "chatcmpl-CbQ5fT2wUe9NpQ4rD7yH1jK6zXa3L"
STREAM_PIECES = ["Paris", " is", " the", " capital", " of", " France", "."]


def _content_chunks(cid, usage_field=False):
    chunks = [chunk(cid, {"role": "assistant", "content": "", "refusal": None}, obf="vK2", usage_field=usage_field)]
    for piece in STREAM_PIECES:
        chunks.append(
            chunk(cid, {"content": piece}, obf="xY9aB1cD"[: 8 - len(piece) % 8] or "q", usage_field=usage_field)
        )
    chunks.append(chunk(cid, {}, finish="stop", obf="Zp4uT", usage_field=usage_field))
    return chunks


@case
def chat_stream():
    call = lambda c: c.chat.completions.create(  # noqa: E731
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        stream=True,
    )
    return call, sse_reply(sse_chat(_content_chunks(STREAM_ID)), request_id="req_3e0f4a5b6c7d8e9f0a1b2c3d4e5f6071")


USAGE_STREAM_ID = "chatcmpl-CbQ6gU3xVf0OqR5sE8zI2kL7aYb4M"


@case
def chat_stream_usage():
    call = lambda c: c.chat.completions.create(  # noqa: E731
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = _content_chunks(USAGE_STREAM_ID, usage_field=True)
    final = {
        "id": USAGE_STREAM_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_560af6e559",
        "choices": [],
        "usage": usage_chat(14, 7),
        "obfuscation": "Rk1s",
    }
    return call, sse_reply(sse_chat([*chunks, final]), request_id="req_4f1a5b6c7d8e9f0a1b2c3d4e5f607182")


TOOLS_STREAM_ID = "chatcmpl-CbQ7hV4yWg1PrS6tF9aJ3mM8bZc5N"


@case
def chat_stream_tools():
    call = lambda c: c.chat.completions.create(  # noqa: E731
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": QUESTION}],
        tools=[WEATHER_TOOL, TIME_TOOL],
        stream=True,
    )
    cid = TOOLS_STREAM_ID
    d = lambda index, **kw: {"tool_calls": [{"index": index, **kw}]}  # noqa: E731
    chunks = [
        chunk(cid, {"role": "assistant", "content": None, "refusal": None}, obf="aB3"),
        chunk(cid, d(0, id=CALL_WEATHER, type="function", function={"name": "get_weather", "arguments": ""}), obf="k"),
        chunk(cid, d(0, function={"arguments": '{"lo'}), obf="Qw9e"),
        chunk(cid, d(0, function={"arguments": 'cation": "Pa'}), obf="Z"),
        chunk(cid, d(0, function={"arguments": 'ris", "unit": '}), obf="uI"),
        chunk(cid, d(0, function={"arguments": '"celsius"}'}), obf="pO0"),
        chunk(cid, d(1, id=CALL_TIME, type="function", function={"name": "get_time", "arguments": ""}), obf="Mn"),
        chunk(cid, d(1, function={"arguments": '{"timez'}), obf="Xc4"),
        chunk(cid, d(1, function={"arguments": 'one": "Europe/'}), obf="v"),
        chunk(cid, d(1, function={"arguments": 'Paris"}'}), obf="bN7m"),
        chunk(cid, {}, finish="tool_calls", obf="Lk"),
    ]
    return call, sse_reply(sse_chat(chunks), request_id="req_5a2b6c7d8e9f0a1b2c3d4e5f60718293")


HELPER_ID = "chatcmpl-CbQ8iW5zXh2QsT7uG0bK4nN9cAd6O"


@case
def chat_stream_helper():
    def call(c):
        with c.chat.completions.stream(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "What is the capital of France?"}],
            stream_options={"include_usage": True},
        ) as stream:
            return stream.get_final_completion()

    chunks = _content_chunks(HELPER_ID, usage_field=True)
    final = {
        "id": HELPER_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_560af6e559",
        "choices": [],
        "usage": usage_chat(14, 7),
        "obfuscation": "Hj2w",
    }
    return call, sse_reply(sse_chat([*chunks, final]), request_id="req_6b3c7d8e9f0a1b2c3d4e5f6071829304")


@case
def chat_parse():
    call = lambda c: c.chat.completions.parse(  # noqa: E731
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Give facts about Lisbon."}],
        response_format=CityAnswer,
    )
    body = chat_completion(
        "chatcmpl-CbQ9jX6aYi3RtU8vH1cL5oO0dBe7P",
        [choice(0, message('{"city":"Lisbon","country":"Portugal","population_millions":0.55}'), "stop")],
        usage_chat(86, 19),
    )
    return call, json_reply(body, request_id="req_7c4d8e9f0a1b2c3d4e5f607182930415")


RAW_MESSAGES = [{"role": "user", "content": "Say hello."}]


@case
def chat_raw_response():
    call = lambda c: c.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=RAW_MESSAGES).parse()  # noqa: E731
    body = chat_completion(
        "chatcmpl-CbQAkY7bZj4SuV9wI2dM6pP1eCf8Q", [choice(0, message("Hello!"), "stop")], usage_chat(9, 2)
    )
    return call, json_reply(body, request_id="req_8d5e9f0a1b2c3d4e5f60718293041526")


@case
def chat_streaming_response():
    def call(c):
        with c.chat.completions.with_streaming_response.create(model="gpt-4o-mini", messages=RAW_MESSAGES) as r:
            return r.parse()

    body = chat_completion(
        "chatcmpl-CbQBlZ8cAk5TvW0xJ3eN7qQ2fDg9R", [choice(0, message("Hello there!"), "stop")], usage_chat(9, 3)
    )
    return call, json_reply(body, request_id="req_9e6f0a1b2c3d4e5f6071829304152637")


@case
def chat_error_400():
    call = lambda c: c.chat.completions.create(  # noqa: E731
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Hi"}],
        temperature=3,
    )
    body = {
        "error": {
            "message": "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead.",
            "type": "invalid_request_error",
            "param": "temperature",
            "code": "decimal_above_max_value",
        }
    }
    return call, json_reply(body, status=400, request_id="req_af7a1b2c3d4e5f607182930415263748")


@case
def chat_error_429():
    call = lambda c: c.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])  # noqa: E731
    body = {
        "error": {
            "message": "Rate limit reached for gpt-4o-mini in organization org-0000000000000000000000 on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms. Visit https://platform.openai.com/account/rate-limits to learn more.",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    return call, json_reply(
        body,
        status=429,
        request_id="req_b08b2c3d4e5f60718293041526374859",
        extra={
            "retry-after": "1",
            "x-ratelimit-limit-requests": "500",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "120ms",
        },
    )


# ---------------------------------------------------------------- responses
RESP_CREATED = CREATED + 11
RESPONSES_INPUT = [
    {"role": "user", "content": [{"type": "input_text", "text": "Is it raining in Paris? Answer, then check."}]},
]


def response_obj(
    rid,
    status,
    output,
    usage,
    *,
    model="o4-mini-2025-04-16",
    instructions=None,
    tools=(),
    reasoning=None,
    text_format=None,
    completed=True,
    max_output_tokens=None,
):
    return {
        "id": rid,
        "object": "response",
        "created_at": RESP_CREATED,
        "status": status,
        "background": False,
        "completed_at": RESP_CREATED + 3 if completed and status == "completed" else None,
        "error": None,
        "incomplete_details": None,
        "instructions": instructions,
        "max_output_tokens": max_output_tokens,
        "max_tool_calls": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "prompt_cache_retention": None,
        "reasoning": reasoning or {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default",
        "temperature": 1.0,
        "text": {"format": text_format or {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": list(tools),
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def usage_resp(inp, out, cached=0, reasoning=0):
    return {
        "input_tokens": inp,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": inp + out,
    }


def out_text(text):
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def out_message(mid, text, status="completed"):
    return {
        "id": mid,
        "type": "message",
        "status": status,
        "content": [out_text(text)] if text is not None else [],
        "role": "assistant",
    }


RS_ID = "rs_0a6f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566"
MSG_ID = "msg_0a6f1e2d3c4b5a69788796a5b4c3d2e1f00112233445577"
FC_ID = "fc_0a6f1e2d3c4b5a69788796a5b4c3d2e1f00112233445588"
CALL_FN = "call_Vd8sK2mQ4xN7pL1rT5wY9zB3"
REASONING_SUMMARY = "The user wants current weather; I should answer briefly and call get_weather for Paris."
PARTIAL_ANSWER = "I'll check the current conditions in Paris."


@case
def responses_create():
    call = lambda c: c.responses.create(  # noqa: E731
        model="o4-mini",
        instructions=INSTRUCTIONS,
        input=RESPONSES_INPUT,
        tools=[WEATHER_FN],
        reasoning={"effort": "low", "summary": "auto"},
        max_output_tokens=800,
    )
    output = [
        {"id": RS_ID, "type": "reasoning", "summary": [{"type": "summary_text", "text": REASONING_SUMMARY}]},
        out_message(MSG_ID, PARTIAL_ANSWER),
        {
            "id": FC_ID,
            "type": "function_call",
            "status": "completed",
            "arguments": '{"location":"Paris"}',
            "call_id": CALL_FN,
            "name": "get_weather",
        },
    ]
    body = response_obj(
        "resp_0a6f1e2d3c4b5a69788796a5b4c3d2e1f00112233445599",
        "completed",
        output,
        usage_resp(1408, 236, cached=1280, reasoning=192),
        instructions=INSTRUCTIONS,
        tools=[WEATHER_FN],
        reasoning={"effort": "low", "summary": "detailed"},
        max_output_tokens=800,
    )
    return call, json_reply(body, request_id="req_c19c3d4e5f6071829304152637485960")


STREAM_RESP_ID = "resp_0b7a2f3e4d5c6b7a8998a7b6c5d4e3f2011223344556677"
STREAM_MSG_ID = "msg_0b7a2f3e4d5c6b7a8998a7b6c5d4e3f2011223344556688"
STREAM_TEXT = ["Light", " rain", " and", " 14", " °C", " in", " Paris", "."]


def _text_stream_events(rid, mid, pieces, usage, model="gpt-4.1-mini-2025-04-14", text_format=None):
    full = "".join(pieces)
    base = dict(model=model, text_format=text_format)
    events = [
        {"type": "response.created", "response": response_obj(rid, "in_progress", [], None, **base)},
        {"type": "response.in_progress", "response": response_obj(rid, "in_progress", [], None, **base)},
        {"type": "response.output_item.added", "output_index": 0, "item": out_message(mid, None, "in_progress")},
        {
            "type": "response.content_part.added",
            "item_id": mid,
            "output_index": 0,
            "content_index": 0,
            "part": out_text(""),
        },
    ]
    for piece in pieces:
        events.append(
            {
                "type": "response.output_text.delta",
                "item_id": mid,
                "output_index": 0,
                "content_index": 0,
                "delta": piece,
                "logprobs": [],
            }
        )
    events += [
        {
            "type": "response.output_text.done",
            "item_id": mid,
            "output_index": 0,
            "content_index": 0,
            "text": full,
            "logprobs": [],
        },
        {
            "type": "response.content_part.done",
            "item_id": mid,
            "output_index": 0,
            "content_index": 0,
            "part": out_text(full),
        },
        {"type": "response.output_item.done", "output_index": 0, "item": out_message(mid, full)},
        {
            "type": "response.completed",
            "response": response_obj(rid, "completed", [out_message(mid, full)], usage, **base),
        },
    ]
    return [
        {"type": e["type"], "sequence_number": i, **{k: v for k, v in e.items() if k != "type"}}
        for i, e in enumerate(events)
    ]


@case
def responses_stream():
    def call(c):
        return list(
            c.responses.create(
                model="gpt-4.1-mini",
                input="Weather in Paris in one short sentence.",
                stream=True,
                temperature=0.5,
            )
        )

    events = _text_stream_events(STREAM_RESP_ID, STREAM_MSG_ID, STREAM_TEXT, usage_resp(18, 11))
    events[0]["response"]["temperature"] = events[1]["response"]["temperature"] = 0.5
    events[-1]["response"]["temperature"] = 0.5
    return call, sse_reply(sse_events(events), request_id="req_d2ad4e5f607182930415263748596071")


HELPER_RESP_ID = "resp_0c8b3a4f5e6d7c8b9aa9b8c7d6e5f4031223344556677aa"
HELPER_MSG_ID = "msg_0c8b3a4f5e6d7c8b9aa9b8c7d6e5f4031223344556677bb"


@case
def responses_stream_helper():
    def call(c):
        with c.responses.stream(model="gpt-4.1-mini", input="Weather in Paris in one short sentence.") as stream:
            return stream.get_final_response()

    events = _text_stream_events(HELPER_RESP_ID, HELPER_MSG_ID, STREAM_TEXT, usage_resp(18, 11))
    return call, sse_reply(sse_events(events), request_id="req_e3be5f60718293041526374859607182")


@case
def responses_parse():
    call = lambda c: c.responses.parse(model="gpt-4.1-mini", input="Give facts about Lisbon.", text_format=CityAnswer)  # noqa: E731
    schema_format = {
        "type": "json_schema",
        "name": "CityAnswer",
        "strict": True,
        "description": None,
        "schema": {
            "type": "object",
            "title": "CityAnswer",
            "properties": {
                "city": {"title": "City", "type": "string"},
                "country": {"title": "Country", "type": "string"},
                "population_millions": {"title": "Population Millions", "type": "number"},
            },
            "required": ["city", "country", "population_millions"],
            "additionalProperties": False,
        },
    }
    text = '{"city":"Lisbon","country":"Portugal","population_millions":0.55}'
    body = response_obj(
        "resp_0d9c4b5a6f7e8d9c0bba0c9d8e7f6051423344556677889c",
        "completed",
        [out_message("msg_0d9c4b5a6f7e8d9c0bba0c9d8e7f6051423344556677889d", text)],
        usage_resp(74, 20),
        model="gpt-4.1-mini-2025-04-14",
        text_format=schema_format,
    )
    return call, json_reply(body, request_id="req_f4cf60718293041526374859607182a3")


# ---------------------------------------------------------------- embeddings
@case
def embeddings_create():
    call = lambda c: c.embeddings.create(  # noqa: E731
        model="text-embedding-3-small",
        input=["The food was delicious.", "The waiter was rude."],
        encoding_format="float",
        dimensions=8,
    )
    body = {
        "object": "list",
        "data": [
            {
                "object": "embedding",
                "index": 0,
                "embedding": [0.0123, -0.4581, 0.2214, 0.6617, -0.1032, 0.0457, -0.5149, 0.1688],
            },
            {
                "object": "embedding",
                "index": 1,
                "embedding": [-0.2871, 0.1315, -0.6042, 0.0896, 0.3827, -0.4410, 0.2263, -0.3039],
            },
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 11, "total_tokens": 11},
    }
    return call, json_reply(body, request_id="req_05d0718293041526374859607182a3b4")


# ---------------------------------------------------------------- legacy completions
INSTRUCT = "gpt-3.5-turbo-instruct:20230824-v2"


@case
def completions_create():
    call = lambda c: c.completions.create(  # noqa: E731
        model="gpt-3.5-turbo-instruct",
        prompt="Write a tagline for an ice cream shop.",
        max_tokens=16,
        temperature=0.7,
    )
    body = {
        "id": "cmpl-CbQCmA9dBl6UwX1yK4fO8rR3gEh0S",
        "object": "text_completion",
        "created": CREATED,
        "model": INSTRUCT,
        "choices": [
            {"text": "\n\nScoops of happiness, served daily.", "index": 0, "logprobs": None, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 9, "total_tokens": 19},
    }
    return call, json_reply(body, request_id="req_16e18293041526374859607182a3b4c5")


@case
def completions_stream():
    def call(c):
        return list(
            c.completions.create(
                model="gpt-3.5-turbo-instruct",
                prompt="Write a tagline for an ice cream shop.",
                max_tokens=5,
                stream=True,
            )
        )

    cid = "cmpl-CbQDnB0eCm7VxY2zL5gP9sS4hFi1T"
    pieces = ["\n\n", "Sc", "oops", " of", " joy"]
    chunks = [
        {
            "id": cid,
            "object": "text_completion",
            "created": CREATED,
            "choices": [
                {"text": p, "index": 0, "logprobs": None, "finish_reason": "length" if i == len(pieces) - 1 else None}
            ],
            "model": INSTRUCT,
        }
        for i, p in enumerate(pieces)
    ]
    return call, sse_reply(sse_chat(chunks), request_id="req_27f293041526374859607182a3b4c5d6")
