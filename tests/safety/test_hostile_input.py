"""Issue 8 §4: hostile input never loses a span and never grows an attribute without bound."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai.types.chat import ChatCompletion
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.trace import StatusCode

import llmtap
from tests.safety.support import openai_client
from tests.support import openai_wire as wire
from tests.support.environment import clean_env
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry, attribute_json

INPUT = gen_ai.GEN_AI_INPUT_MESSAGES
OUTPUT = gen_ai.GEN_AI_OUTPUT_MESSAGES


def _nested_dicts(depth: int, leaf: Any = "leaf") -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def _nested_text(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def _tool_call_completion(arguments: str, text: str) -> dict[str, Any]:
    body = wire.chat_completion(text, finish_reason="tool_calls")
    body["choices"][0]["message"]["tool_calls"] = [
        {"id": "call_deep01", "type": "function", "function": {"name": "lookup", "arguments": arguments}}
    ]
    return body


def _duration_points(telemetry: Telemetry) -> list[Any]:
    return telemetry.metric_points("gen_ai.client.operation.duration")


def test_tool_call_arguments_600_deep_in_a_response(instrumented: Telemetry, api: LoopbackAPI) -> None:
    arguments = json.dumps(_nested_dicts(600))
    long_text = "x" * 20000  # over the per-string limit: the content goes through the bounded walk
    api.route("POST", "/chat/completions", Reply(body=_tool_call_completion(arguments, long_text)))
    completion = openai_client(api).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "look it up"}]
    )
    assert completion.choices[0].message.tool_calls[0].function.arguments == arguments

    span = instrumented.only_span()  # ended and exported
    assert attribute_json(span, OUTPUT) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": "x" * 16384},
                # deeper than content is ever parsed: kept as the string the model sent
                {"type": "tool_call", "id": "call_deep01", "name": "lookup", "arguments": arguments},
            ],
            "finish_reason": "tool_call",
        }
    ]
    assert span.attributes["llmtap.truncated.gen_ai.output.messages"] == 20000 - 16384
    assert [point.count for point in _duration_points(instrumented)] == [1]


def test_tool_arguments_600_deep_in_a_decorated_tool(instrumented: Telemetry) -> None:
    @llmtap.tool
    def lookup(payload: dict[str, Any]) -> str:
        return "found"

    assert lookup(_nested_dicts(600)) == "found"
    span = instrumented.only_span()
    assert span.name == "execute_tool lookup"
    assert span.status.status_code is StatusCode.UNSET
    # Nesting past 64 levels is left out (an empty object stays) and counted: 537 keys "a" and "leaf".
    assert attribute_json(span, gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS) == {"payload": _nested_dicts(63, {})}
    assert span.attributes["llmtap.truncated.gen_ai.tool.call.arguments"] == 537 + len("leaf")
    assert span.attributes[gen_ai.GEN_AI_TOOL_CALL_RESULT] == '"found"'


def test_request_history_3000_deep_tool_arguments(instrumented: Telemetry, api: LoopbackAPI) -> None:
    arguments = _nested_text(3000)
    api.route("POST", "/chat/completions", Reply(body=wire.chat_completion("Done.")))
    history = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_deep01", "type": "function", "function": {"name": "lookup", "arguments": arguments}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_deep01", "content": "ok"},
    ]
    assert openai_client(api).chat.completions.create(model="gpt-4o-mini", messages=history).id == (
        "chatcmpl-CXtap0001"
    )
    span = instrumented.only_span()
    assert attribute_json(span, INPUT) == [
        {"role": "user", "parts": [{"type": "text", "content": "go"}]},
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_deep01", "name": "lookup", "arguments": arguments}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_deep01", "response": "ok"}]},
    ]
    assert span.attributes[gen_ai.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert [point.count for point in _duration_points(instrumented)] == [1]


def test_request_history_3000_deep_objects(instrumented: Telemetry, api: LoopbackAPI) -> None:
    """The SDK itself cannot encode the request (its own RecursionError reaches the app); the span is
    still ended and exported, with the history bounded."""
    api.route("POST", "/chat/completions", Reply(body=wire.chat_completion("Done.")))
    deep = _nested_dicts(3000)
    history = [{"role": "user", "content": "go"}, {"role": "tool", "tool_call_id": "call_1", "content": deep}]
    with pytest.raises(RecursionError):
        openai_client(api).chat.completions.create(model="gpt-4o-mini", messages=history)
    span = instrumented.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "RecursionError"
    # list > message > parts > part: 4 levels of the message shape, then 60 of the history's.
    assert attribute_json(span, INPUT) == [
        {"role": "user", "parts": [{"type": "text", "content": "go"}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": _nested_dicts(60, {})}]},
    ]
    assert span.attributes["llmtap.truncated.gen_ai.input.messages"] == (3000 - 60) + len("leaf")
    assert [point.attributes["error.type"] for point in _duration_points(instrumented)] == ["RecursionError"]


def _many_parts(count: int) -> list[dict[str, str]]:
    return [{"type": "text", "text": f"p{index:05d}"} for index in range(count)]


def _post_parts(api: LoopbackAPI, count: int) -> ChatCompletion:
    """A chat request of `count` text parts. Through the SDK's low-level `post` (the same `request` every
    endpoint ends in): its typed `create()` spends ~2 ms per part in its own request transform."""
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": _many_parts(count)}]}
    return openai_client(api).post("/chat/completions", body=body, cast_to=ChatCompletion)


def _check_bounded_parts(span: Any, bound: int, count: int) -> None:
    text = span.attributes[INPUT]
    assert len(text) <= bound
    messages = json.loads(text)  # still valid JSON, still the message shape
    assert [message["role"] for message in messages] == ["user"]
    kept = messages[0]["parts"]
    assert kept[:2] == [{"type": "text", "content": "p00000"}, {"type": "text", "content": "p00001"}]
    assert all(part["type"] == "text" for part in kept)
    full = [part for part in kept if part.get("content") is not None and len(part["content"]) == 6]
    assert [part["content"] for part in full] == [f"p{index:05d}" for index in range(len(full))]
    last = kept[-1]
    # every part dropped whole: "type" + "text" + "content" + "pNNNNN" = 21 characters of content
    partial = 0 if last is full[-1] else 6 - len(last.get("content", "")) + (0 if "content" in last else 7)
    assert span.attributes["llmtap.truncated.gen_ai.input.messages"] == (count - len(kept)) * 21 + partial


def test_60000_small_text_parts_are_bounded_in_total(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/chat/completions", Reply(body=wire.chat_completion("Done.")))
    assert _post_parts(api, 60000).choices[0].message.content == "Done."
    span = instrumented.only_span()
    _check_bounded_parts(span, 131072, 60000)
    assert 131072 - 4096 < len(span.attributes[INPUT])


def test_attribute_bound_setting(telemetry: Telemetry, api: LoopbackAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch)
    monkeypatch.setenv("LLMTAP_MAX_ATTRIBUTE_CHARS", "2000")
    llmtap.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, config={})
    try:
        api.route("POST", "/chat/completions", Reply(body=wire.chat_completion("Done.")))
        _post_parts(api, 500)
    finally:
        llmtap.uninstrument()
    span = telemetry.only_span()
    _check_bounded_parts(span, 2000, 500)
    assert span.attributes[OUTPUT] == (
        '[{"role":"assistant","parts":[{"type":"text","content":"Done."}],"finish_reason":"stop"}]'
    )
