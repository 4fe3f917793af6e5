"""Every body in every OpenAI cassette fits the SDK's own pydantic types exactly (no drift)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import pytest
from openai.types.chat import ChatCompletion
from openai.types.responses import ResponseStreamEvent

from tests.support.cassettes import OPENAI_CASSETTES, SECRET_HEADERS, TEST_API_KEY
from tests.support.wire import interaction_problems, interactions, payload_problems, problems, sse_events

CASSETTES = sorted(OPENAI_CASSETTES.glob("*.yaml"))


def test_every_expected_cassette_is_there() -> None:
    assert [path.stem for path in CASSETTES] == [
        "chat_error_400",
        "chat_error_429",
        "chat_parse",
        "chat_plain",
        "chat_raw_response",
        "chat_stream",
        "chat_stream_helper",
        "chat_stream_tools",
        "chat_stream_usage",
        "chat_streaming_response",
        "chat_tool_results",
        "chat_tools",
        "completions_create",
        "completions_stream",
        "embeddings_create",
        "responses_create",
        "responses_parse",
        "responses_stream",
        "responses_stream_helper",
    ]


@pytest.mark.parametrize("path", CASSETTES, ids=lambda path: path.stem)
def test_cassette_bodies_match_the_sdk_types(path: Path) -> None:
    recorded = interactions(path)
    assert len(recorded) == 1
    for interaction in recorded:
        request = interaction["request"]
        assert request["method"] == "POST"
        assert urlparse(request["uri"]).netloc == "api.openai.com"
        json.loads(request["body"])  # the request the SDK sent, as JSON
        assert interaction_problems(interaction) == []


@pytest.mark.parametrize("path", CASSETTES, ids=lambda path: path.stem)
def test_cassettes_hold_no_secrets(path: Path) -> None:
    text = path.read_text()
    assert TEST_API_KEY not in text
    assert "sk-" not in text
    for interaction in interactions(path):
        for headers in (interaction["request"]["headers"], interaction["response"]["headers"]):
            assert {key.lower() for key in headers} & set(SECRET_HEADERS) == set()
    assert "authorization" not in text.lower()


def test_streams_end_as_the_api_ends_them() -> None:
    for name in ("chat_stream", "chat_stream_tools", "chat_stream_usage", "chat_stream_helper", "completions_stream"):
        body = interactions(OPENAI_CASSETTES / f"{name}.yaml")[0]["response"]["body"]["string"]
        events = list(sse_events(body))
        assert events[-1] == (None, "[DONE]"), name
        assert all(event is None for event, _ in events), name
    body = interactions(OPENAI_CASSETTES / "responses_stream.yaml")[0]["response"]["body"]["string"]
    events = list(sse_events(body))
    assert [event for event, _ in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 8,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [json.loads(data)["sequence_number"] for _, data in events] == list(range(16))


def _chat_completion() -> dict:
    body = interactions(OPENAI_CASSETTES / "chat_plain.yaml")[0]["response"]["body"]["string"]
    return json.loads(body)


def test_validator_accepts_a_cassette_body() -> None:
    assert problems(_chat_completion(), ChatCompletion) == []


def test_validator_rejects_an_unknown_field() -> None:
    body = _chat_completion()
    body["choices"][1]["message"]["reasoning"] = "thinking"
    assert problems(body, ChatCompletion) == ["$.choices[1].message.reasoning: not a field of ChatCompletionMessage"]


def test_validator_rejects_a_missing_required_field() -> None:
    body = _chat_completion()
    del body["usage"]["total_tokens"]
    del body["created"]
    assert problems(body, ChatCompletion) == [
        "$.created: required field of ChatCompletion missing",
        "$.usage.total_tokens: required field of CompletionUsage missing",
    ]


def test_validator_resolves_unions_by_discriminator() -> None:
    event = {"type": "response.output_text.delta", "sequence_number": 3, "item_id": "msg_1", "output_index": 0}
    event.update(content_index=0, delta="Hi", logprobs=[], obfuscation="x1")
    assert problems(event, ResponseStreamEvent) == ["$.obfuscation: not a field of ResponseTextDeltaEvent"]
    assert problems({"type": "response.nope"}, ResponseStreamEvent)[0].startswith("$.type: 'response.nope' names none")


def test_validator_checks_literals_and_scalars() -> None:
    body = _chat_completion()
    body["choices"][0]["finish_reason"] = "done"
    body["usage"]["prompt_tokens"] = "31"
    assert problems(body, ChatCompletion) == [
        "$.choices[0].finish_reason: 'done' not one of ('stop', 'length', 'tool_calls', 'content_filter', "
        "'function_call')",
        "$.usage.prompt_tokens: '31' is not a int",
    ]


def test_error_envelope_is_checked() -> None:
    ok = {"error": {"message": "m", "type": "invalid_request_error", "param": None, "code": None}}
    assert payload_problems("/v1/chat/completions", 400, "application/json", json.dumps(ok)) == []
    bad = {"error": {"message": "m", "type": "invalid_request_error", "param": None}, "status": 400}
    assert payload_problems("/v1/chat/completions", 400, "application/json", json.dumps(bad)) == [
        "$.status: not a field of ErrorBody",
    ]
    bad = {"error": {"message": "m", "type": "invalid_request_error", "param": None}}
    assert payload_problems("/v1/chat/completions", 400, "application/json", json.dumps(bad)) == [
        "$.error.code: missing"
    ]
