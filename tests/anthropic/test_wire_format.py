"""Every body in every Anthropic cassette fits the SDK's own pydantic types exactly (no drift)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import pytest
from anthropic.types import ErrorResponse, Message, RawMessageStreamEvent

from tests.anthropic.conftest import API_KEY
from tests.support.anthropic_wire import CASSETTES
from tests.support.wire import (
    error_problems,
    interaction_problems,
    interactions,
    payload_problems,
    problems,
    response_type,
    sse_events,
)

PATHS = sorted(CASSETTES.glob("*.yaml"))
# `client.beta.messages` answers on the same URL path with the beta types (e.g. `container`).
BETA = {"beta"}


def test_every_expected_cassette_is_there() -> None:
    assert [path.stem for path in PATHS] == [
        "authentication_error",
        "beta",
        "cache_usage",
        "count_tokens",
        "errors",
        "plain_message",
        "stream_helper",
        "structured_output",
        "thinking",
        "tool_use",
        "tool_use_stream",
    ]


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.stem)
def test_cassette_bodies_match_the_sdk_types(path: Path) -> None:
    recorded = interactions(path)
    assert recorded
    for interaction in recorded:
        request = interaction["request"]
        assert request["method"] == "POST"
        assert urlparse(request["uri"]).netloc == "api.anthropic.com"
        json.loads(request["body"])  # the request the SDK sent, as JSON
        assert interaction_problems(interaction, beta=path.stem in BETA) == []


@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.stem)
def test_cassettes_hold_no_secrets(path: Path) -> None:
    text = path.read_text()
    assert API_KEY not in text.replace(f"invalid x-api-key: {API_KEY}", "")  # only the 401 echoes it
    for interaction in interactions(path):
        for headers in (interaction["request"]["headers"], interaction["response"]["headers"]):
            assert {key.lower() for key in headers} & {"x-api-key", "authorization"} == set()


def _body(name: str, index: int = 0) -> str:
    return interactions(CASSETTES / f"{name}.yaml")[index]["response"]["body"]["string"]


def test_streams_are_the_public_event_sequence() -> None:
    events = list(sse_events(_body("stream_helper")))
    assert [event for event, _ in events] == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 3,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(json.loads(data)["type"] == event for event, data in events)


def test_beta_bodies_need_the_beta_types() -> None:
    found = payload_problems("/v1/messages", 200, "application/json", _body("beta"))
    assert found == ["$.context_management: not a field of Message"]


def _message() -> dict:
    return json.loads(_body("plain_message"))


def test_validator_accepts_a_cassette_body() -> None:
    assert problems(_message(), Message) == []


def test_validator_rejects_an_unknown_field() -> None:
    body = _message()
    body["content"][0]["annotations"] = []
    body["usage"]["server_tool_calls"] = 0
    assert problems(body, Message) == [
        "$.content[0].annotations: not a field of TextBlock",
        "$.usage.server_tool_calls: not a field of Usage",
    ]


def test_validator_rejects_a_missing_required_field() -> None:
    body = _message()
    del body["usage"]["output_tokens"]
    del body["role"]
    assert problems(body, Message) == [
        "$.role: required field of Message missing",
        "$.usage.output_tokens: required field of Usage missing",
    ]


def test_validator_resolves_stream_events_by_type() -> None:
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi", "logprobs": []}}
    assert problems(delta, RawMessageStreamEvent) == ["$.delta.logprobs: not a field of TextDelta"]
    assert problems({"type": "message_nope"}, RawMessageStreamEvent)[0].startswith("$.type: 'message_nope' names none")
    # The stream type of the endpoint also admits the `ping` keep-alive and an `error` event, nothing else.
    stream = response_type("/v1/messages", streamed=True)
    assert problems({"type": "ping"}, stream) == []
    assert problems({"type": "ping", "at": 1}, stream) == ["$.at: not a field of AnthropicPing"]
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}, "request_id": None}
    assert problems(overloaded, stream) == []


def test_sse_event_name_must_match_the_data_type() -> None:
    body = 'event: message_stop\ndata: {"type":"ping"}\n\n'
    assert payload_problems("/v1/messages", 200, "text/event-stream", body) == [
        "event 0: `event: message_stop` but data type 'ping'"
    ]


def test_error_envelope_is_checked() -> None:
    ok = json.loads(_body("errors"))
    assert problems(ok, ErrorResponse) == []
    assert error_problems(ok, "/v1/messages") == []
    assert error_problems({**ok, "status": 529}, "/v1/messages") == ["$.status: not a field of ErrorResponse"]
    assert error_problems({key: ok[key] for key in ("type", "error")}, "/v1/messages") == ["$.request_id: missing"]
    wrong = {**ok, "error": {"type": "overloaded", "message": "Overloaded"}}
    assert error_problems(wrong, "/v1/messages")[0].startswith("$.error.type: 'overloaded' names none")
    assert payload_problems("/v1/messages", 529, "application/json", json.dumps({"error": ok["error"]})) == [
        "$.type: required field of ErrorResponse missing"
    ]
