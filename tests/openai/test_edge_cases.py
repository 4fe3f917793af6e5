"""Edge cases of the OpenAI plugin found in review: cache writes, in-band failures of the Responses API,
finish reasons, `extra_body`, Azure, and what an error's text may reveal with content capture off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from openai.types.chat import ChatCompletion
from openai.types.responses import Response, ResponseStreamEvent
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.trace import StatusCode

import llmtap
import openai
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry, attribute_json
from tests.support.wire import check

MESSAGES = [{"role": "user", "content": "Say hello"}]


def _client(api: LoopbackAPI) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test-edges", base_url=api.base_url + "/", max_retries=0)


def test_chat_cache_writes_are_cache_creation_tokens(instrumented: Telemetry, api: LoopbackAPI) -> None:
    body = wire.chat_completion("Hi.", usage=wire.chat_usage(2000, 5, cached_tokens=1024))
    body["usage"]["prompt_tokens_details"]["cache_write_tokens"] = 900
    api.route("POST", "/chat/completions", Reply(body=check(ChatCompletion, body)))
    _client(api).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    span = instrumented.only_span()
    assert span.attributes[gen_ai.GEN_AI_USAGE_INPUT_TOKENS] == 2000  # cache reads and writes are inside it
    assert span.attributes[gen_ai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 1024
    assert span.attributes[gen_ai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 900


def test_responses_cache_writes_are_cache_creation_tokens(instrumented: Telemetry, api: LoopbackAPI) -> None:
    body = wire.response("Hi.")
    body["usage"]["input_tokens_details"] = {"cached_tokens": 1024, "cache_write_tokens": 900}
    api.route("POST", "/responses", Reply(body=check(Response, body)))
    _client(api).responses.create(model="gpt-4.1-mini", input="Say hello")
    span = instrumented.only_span()
    assert span.attributes[gen_ai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 1024
    assert span.attributes[gen_ai.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] == 900


def _failed_response() -> dict[str, Any]:
    body = wire.response(None, status="failed")
    body["error"] = {"code": "server_error", "message": "The model had an internal error."}
    return check(Response, body)


def test_a_failed_response_is_an_error(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/responses", Reply(body=_failed_response()))
    result = _client(api).responses.create(model="gpt-4.1-mini", input="Say hello")
    assert result.status == "failed"  # the SDK returns it; llmtap records it as the failure it is
    span = instrumented.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "The model had an internal error."
    assert span.attributes["error.type"] == "server_error"
    # An in-band failure has no exception object: its type and message, no stack trace.
    assert [(event.name, dict(event.attributes)) for event in span.events] == [
        ("exception", {"exception.type": "server_error", "exception.message": "The model had an internal error."})
    ]
    assert span.attributes[gen_ai.GEN_AI_RESPONSE_FINISH_REASONS] == ("error",)
    (point,) = instrumented.metric_points("gen_ai.client.operation.duration")
    assert point.attributes["error.type"] == "server_error"


def test_a_stream_ending_in_response_failed_is_an_error(instrumented: Telemetry, api: LoopbackAPI) -> None:
    events = wire.response_events(["Pa"])[:5]  # created, in_progress, item added, part added, one delta
    failed = {"type": "response.failed", "sequence_number": 5, "response": _failed_response()}
    api.route("POST", "/responses", Reply(events=[*events, ("response.failed", check(ResponseStreamEvent, failed))]))
    seen = [event.type for event in _client(api).responses.create(model="gpt-4.1-mini", input="x", stream=True)]
    assert seen[-1] == "response.failed"
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "error"
    assert span.attributes["error.type"] == "server_error"
    assert span.status.status_code is StatusCode.ERROR


def test_an_error_event_mid_stream_is_an_error_and_keeps_the_partial_text(
    instrumented: Telemetry, api: LoopbackAPI
) -> None:
    events = wire.response_events(["Pa", "ris"])[:5]
    error = {
        "type": "error",
        "sequence_number": 5,
        "code": "server_error",
        "message": "Stream interrupted.",
        "param": None,
    }
    api.route("POST", "/responses", Reply(events=[*events, ("error", check(ResponseStreamEvent, error))]))
    seen = [event.type for event in _client(api).responses.create(model="gpt-4.1-mini", input="x", stream=True)]
    assert seen[-1] == "error"  # openai 3.x hands the event to the app instead of raising
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "error"
    assert span.attributes["error.type"] == "server_error"
    assert span.status.description == "Stream interrupted."
    assert attribute_json(span, gen_ai.GEN_AI_OUTPUT_MESSAGES) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Pa"}], "finish_reason": "error"}
    ]


def test_an_incomplete_response_has_the_semconv_finish_reason_in_its_output(
    instrumented: Telemetry, api: LoopbackAPI
) -> None:
    body = wire.response("Once upon a", status="incomplete")
    body["incomplete_details"] = {"reason": "max_output_tokens"}
    body["usage"] = wire.responses_usage(10, 3)
    api.route("POST", "/responses", Reply(body=check(Response, body)))
    _client(api).responses.create(model="gpt-4.1-mini", input="Tell a story", max_output_tokens=3)
    span = instrumented.only_span()
    assert span.attributes[gen_ai.GEN_AI_RESPONSE_FINISH_REASONS] == ("max_output_tokens",)  # the API's word
    assert attribute_json(span, gen_ai.GEN_AI_OUTPUT_MESSAGES)[0]["finish_reason"] == "length"


def test_extra_body_parameters_are_recorded(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/chat/completions", Reply(body=wire.chat_completion("Hi.")))
    _client(api).chat.completions.create(
        model="llama-3", messages=MESSAGES, extra_body={"temperature": 0.1, "top_k": 3}
    )
    assert api.requests[-1].body["top_k"] == 3
    span = instrumented.only_span()
    assert span.attributes[gen_ai.GEN_AI_REQUEST_TEMPERATURE] == 0.1
    assert span.attributes[gen_ai.GEN_AI_REQUEST_TOP_K] == 3


def test_azure_openai_has_its_own_provider_name(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/openai/deployments/my-gpt/chat/completions", Reply(body=wire.chat_completion("Hi.")))
    client = openai.AzureOpenAI(
        api_key="sk-test-azure", azure_endpoint=api.base_url, api_version="2025-04-01-preview", max_retries=0
    )
    client.chat.completions.create(model="my-gpt", messages=MESSAGES)
    span = instrumented.only_span()
    assert span.attributes[gen_ai.GEN_AI_PROVIDER_NAME] == "azure.ai.openai"
    assert span.name == "chat my-gpt"


@pytest.fixture
def content_off(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    monkeypatch.delenv("LLMTAP_CAPTURE_CONTENT", raising=False)
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    llmtap.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        config={},
        capture_content=False,
    )
    try:
        yield telemetry
    finally:
        llmtap.uninstrument()


def test_with_content_off_an_error_quoting_the_prompt_reveals_only_its_type(
    content_off: Telemetry, api: LoopbackAPI
) -> None:
    message = "Invalid prompt: 'SECRET-PROMPT-TEXT' was flagged."
    api.route(
        "POST", "/chat/completions", Reply(400, wire.error_body(message, kind="invalid_request_error", code=None))
    )
    with pytest.raises(openai.BadRequestError) as caught:
        _client(api).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "SECRET"}])
    assert "SECRET-PROMPT-TEXT" in str(caught.value)  # the app's exception is the SDK's own, unchanged
    span = content_off.only_span()
    assert span.status.description == "BadRequestError"
    # The `exception` event carries the type alone: no message, no stack trace (it ends with the message).
    assert [(event.name, dict(event.attributes)) for event in span.events] == [
        ("exception", {"exception.type": "openai.BadRequestError"})
    ]
    assert "SECRET" not in content_off.everything_exported()
    assert json.dumps(dict(span.attributes)).count("SECRET") == 0


def test_token_counts_of_the_wrong_type_are_left_out(instrumented: Telemetry, api: LoopbackAPI) -> None:
    """A malformed-but-parseable body (counts as strings): no mistyped attribute, no failing metric."""
    body = wire.chat_completion("Hi.")
    body["usage"] = {"prompt_tokens": "12", "completion_tokens": "x", "total_tokens": 0}
    api.route("POST", "/chat/completions", Reply(body=body))
    reply = _client(api).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert reply.usage.prompt_tokens == "12"  # what the SDK made of it, handed to the app unchanged
    span = instrumented.only_span()
    assert gen_ai.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes
    assert gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS not in span.attributes
    assert instrumented.metric_points("gen_ai.client.token.usage") == []
    assert sum(point.count for point in instrumented.metric_points("gen_ai.client.operation.duration")) == 1
