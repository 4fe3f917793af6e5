"""Safety: no secrets exported, content capture off means no content, malformed responses and internal
failures never reach the application, and API errors come back as the very same exception object."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.trace import StatusCode

import llmtap
import llmtap.safety
import openai
from tests.support import openai_wire as wire
from tests.support.environment import CAPTURE_ENV
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry, attribute_json

SECRET_KEY = "sk-test-SECRET-9f8e7d6c5b4a3210"
CONTENT_ENV = (*CAPTURE_ENV, "LLMTAP_OPENAI_STREAM_USAGE", "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS")


def _client(api: LoopbackAPI, key: str = "sk-test-safety", **options: Any) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=api.base_url + "/", max_retries=0, **options)


def _all_calls(client: openai.OpenAI, prompt: str) -> list[Any]:
    """A plain and a streamed call on both chat and responses; returns what the application got."""
    messages = [{"role": "user", "content": prompt}]
    return [
        client.chat.completions.create(model="gpt-4o-mini", messages=messages),
        list(client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True)),
        client.responses.create(model="gpt-4.1-mini", input=prompt),
        list(client.responses.create(model="gpt-4.1-mini", input=prompt, stream=True)),
    ]


class _Routes:
    """Plain or streamed replies for chat and responses, chosen by the request's `stream` flag."""

    def __init__(self, api: LoopbackAPI, text: str) -> None:
        api.route("POST", "/chat/completions", self.chat)
        api.route("POST", "/responses", self.responses)
        self.text = text

    def chat(self, request: Any) -> Reply:
        if request.body.get("stream"):
            return Reply(events=wire.chat_chunks([self.text[:5], self.text[5:]]))
        return Reply(body=wire.chat_completion(self.text))

    def responses(self, request: Any) -> Reply:
        if request.body.get("stream"):
            return Reply(events=wire.response_events([self.text[:5], self.text[5:]]), done_marker=False)
        return Reply(body=wire.response(self.text))


# --- secrets ---------------------------------------------------------------------------------------------


def test_api_key_never_exported(instrumented: Telemetry, api: LoopbackAPI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="llmtap")
    _Routes(api, "The answer is 42.")
    client = _client(api, SECRET_KEY)
    _all_calls(client, "What is the answer?")

    message = (
        f"Incorrect API key provided: {SECRET_KEY}. You can find your API key at "
        "https://platform.openai.com/account/api-keys."
    )
    api.route(
        "POST",
        "/chat/completions",
        Reply(401, wire.error_body(message, kind="invalid_request_error", code="invalid_api_key")),
    )
    with pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])

    assert SECRET_KEY in str(caught.value)  # the SDK's own exception is untouched...
    assert all(request.headers["authorization"] == f"Bearer {SECRET_KEY}" for request in api.requests)
    exported = instrumented.everything_exported()
    assert len(instrumented.genai_spans()) == 5
    assert "SECRET" not in exported  # ...but nothing exported carries the key
    assert "SECRET" not in caplog.text
    error_span = instrumented.genai_spans()[-1]
    assert error_span.attributes["error.type"] == "AuthenticationError"
    assert error_span.status.description == str(caught.value).replace(SECRET_KEY, "[REDACTED]")


# --- content capture off ---------------------------------------------------------------------------------

PROMPT = "PROMPT-TEXT-ultramarine"
COMPLETION = "COMPLETION-TEXT-vermilion"


@pytest.fixture(params=["LLMTAP_CAPTURE_CONTENT", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "argument"])
def capture_off(
    request: pytest.FixtureRequest, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Telemetry]:
    for name in CONTENT_ENV:
        monkeypatch.delenv(name, raising=False)
    argument = None
    if request.param == "argument":
        argument = False
    else:
        monkeypatch.setenv(request.param, "false")
    llmtap.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        config={},
        capture_content=argument,
    )
    try:
        yield telemetry
    finally:
        llmtap.uninstrument()


def test_capture_off_exports_no_content(capture_off: Telemetry, api: LoopbackAPI) -> None:
    _Routes(api, COMPLETION)
    results = _all_calls(_client(api), PROMPT)

    assert results[0].choices[0].message.content == COMPLETION
    assert results[2].output_text == COMPLETION
    spans = capture_off.genai_spans()
    assert len(spans) == 4
    exported = capture_off.everything_exported()
    assert "PROMPT-TEXT" not in exported
    assert "COMPLETION-TEXT" not in exported
    for span in spans:
        for name in (gen_ai.GEN_AI_INPUT_MESSAGES, gen_ai.GEN_AI_OUTPUT_MESSAGES, gen_ai.GEN_AI_SYSTEM_INSTRUCTIONS):
            assert name not in span.attributes
    # metadata is still recorded
    assert [
        span.attributes[gen_ai.GEN_AI_USAGE_INPUT_TOKENS]
        for span in spans
        if not span.attributes.get(gen_ai.GEN_AI_REQUEST_STREAM)
    ] == [12, 14]
    assert [span.attributes.get("llmtap.stream.outcome") for span in spans] == [None, "completed", None, "completed"]


# --- malformed but parseable responses ----------------------------------------------------------------------


def _bare_completion(**changes: Any) -> dict[str, Any]:
    """A chat completion deliberately *not* as the API sends it (the point of these tests)."""
    body = wire.chat_completion("Fine.")
    for key, value in changes.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    return body


def test_response_without_usage(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/chat/completions", Reply(body=_bare_completion(usage=None)))
    completion = _client(api).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert completion.usage is None
    assert completion.choices[0].message.content == "Fine."
    span = instrumented.only_span()
    assert gen_ai.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes
    assert gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS not in span.attributes
    assert span.attributes[gen_ai.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert instrumented.metric_points("gen_ai.client.token.usage") == []


def test_response_with_empty_choices(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/chat/completions", Reply(body=_bare_completion(choices=[])))
    completion = _client(api).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert completion.choices == []
    span = instrumented.only_span()
    assert gen_ai.GEN_AI_RESPONSE_FINISH_REASONS not in span.attributes
    assert gen_ai.GEN_AI_OUTPUT_MESSAGES not in span.attributes
    assert span.attributes[gen_ai.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert span.status.status_code is StatusCode.UNSET


def test_response_without_model(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/chat/completions", Reply(body=_bare_completion(model=None)))
    completion = _client(api).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert "model" not in completion.model_fields_set
    assert completion.choices[0].message.content == "Fine."
    span = instrumented.only_span()
    assert span.name == "chat gpt-4o-mini"
    assert gen_ai.GEN_AI_RESPONSE_MODEL not in span.attributes
    assert span.attributes[gen_ai.GEN_AI_RESPONSE_ID] == "chatcmpl-CXtap0001"


@pytest.mark.parametrize("path", ["/chat/completions", "/responses"])
def test_stream_with_no_chunks(instrumented: Telemetry, api: LoopbackAPI, path: str) -> None:
    api.route("POST", path, Reply(events=[], done_marker=path == "/chat/completions"))
    client = _client(api)
    if path == "/chat/completions":
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True
        )
    else:
        stream = client.responses.create(model="gpt-4.1-mini", input="x", stream=True)
    assert list(stream) == []
    span = instrumented.only_span()
    assert span.attributes["llmtap.stream.outcome"] == "completed"
    assert gen_ai.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK not in span.attributes
    assert gen_ai.GEN_AI_OUTPUT_MESSAGES not in span.attributes
    assert span.status.status_code is StatusCode.UNSET


# --- an exception inside llmtap -------------------------------------------------------------------------------


def _chunks_with_one_llmtap_cannot_read() -> list[dict[str, Any]]:
    chunks = wire.chat_chunks(["Hi", " there", "!"])
    chunks[2]["choices"] = None  # the SDK passes it on as it is; llmtap's stream state raises on it
    return chunks


def test_internal_error_is_logged_once_and_the_app_is_unaffected(
    instrumented: Telemetry, api: LoopbackAPI, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(llmtap.safety, "_already_logged", set())
    caplog.set_level(logging.WARNING, logger="llmtap")
    api.route("POST", "/chat/completions", Reply(events=_chunks_with_one_llmtap_cannot_read()))
    client = _client(api)

    for _ in range(2):
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True
        )
        chunks = list(stream)
        assert [chunk.choices[0].delta.content if chunk.choices else "-" for chunk in chunks] == [
            "",
            "Hi",
            "-",
            "!",
            None,
        ]
        assert chunks[2].choices is None

    warnings = [record for record in caplog.records if record.name == "llmtap"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert warnings[0].getMessage().startswith("llmtap: internal error in recording a stream chunk (TypeError: ")
    assert warnings[0].getMessage().endswith("; the application's call is unaffected")
    spans = instrumented.genai_spans()
    assert len(spans) == 2
    for span in spans:
        assert span.attributes["llmtap.stream.outcome"] == "completed"
        assert attribute_json(span, gen_ai.GEN_AI_OUTPUT_MESSAGES) == [
            {"role": "assistant", "parts": [{"type": "text", "content": "Hi!"}], "finish_reason": "stop"}
        ]


def test_internal_error_recording_a_response(
    instrumented: Telemetry, api: LoopbackAPI, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(llmtap.safety, "_already_logged", set())
    caplog.set_level(logging.WARNING, logger="llmtap")
    body = wire.chat_completion("Fine.")
    del body["choices"][0]["message"]  # llmtap reads `choice.message`; the SDK leaves it unset
    api.route("POST", "/chat/completions", Reply(body=body))

    completion = _client(api).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])

    assert completion.id == "chatcmpl-CXtap0001"
    assert completion.choices[0].finish_reason == "stop"
    assert [record.getMessage().split(" (")[0] for record in caplog.records] == [
        "llmtap: internal error in recording a response"
    ]
    span = instrumented.only_span()
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes[gen_ai.GEN_AI_RESPONSE_ID] == "chatcmpl-CXtap0001"


# --- API errors ------------------------------------------------------------------------------------------------

ERRORS = [
    (400, openai.BadRequestError, "invalid_request_error", "Invalid value for 'temperature'."),
    (429, openai.RateLimitError, "rate_limit_exceeded", "Rate limit reached for gpt-4o-mini."),
    (500, openai.InternalServerError, "server_error", "The server had an error while processing your request."),
]


class _RecordingClient(openai.OpenAI):
    """The real client, remembering every status error the SDK itself builds."""

    made: list[openai.APIStatusError]

    def _make_status_error(self, err_msg: str, *, body: object, response: Any) -> openai.APIStatusError:
        error = super()._make_status_error(err_msg, body=body, response=response)
        self.made.append(error)
        return error


class _AsyncRecordingClient(openai.AsyncOpenAI):
    made: list[openai.APIStatusError]

    def _make_status_error(self, err_msg: str, *, body: object, response: Any) -> openai.APIStatusError:
        error = super()._make_status_error(err_msg, body=body, response=response)
        self.made.append(error)
        return error


def _check_error_span(telemetry: Telemetry, error: BaseException, name: str) -> None:
    span = telemetry.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == str(error)[:1024]
    assert span.attributes["error.type"] == name
    points = telemetry.metric_points("gen_ai.client.operation.duration")
    assert [(point.count, point.attributes["error.type"]) for point in points] == [(1, name)]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize(("status", "error_class", "kind", "message"), ERRORS, ids=["400", "429", "500"])
def test_api_error_sync(
    instrumented: Telemetry, api: LoopbackAPI, status: int, error_class: type, kind: str, message: str, stream: bool
) -> None:
    api.route("POST", "/chat/completions", Reply(status, wire.error_body(message, kind=kind, code=kind)))
    client = _RecordingClient(api_key="sk-test-safety", base_url=api.base_url + "/", max_retries=0)
    client.made = []
    with pytest.raises(error_class) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=stream)
    assert type(caught.value) is error_class
    assert client.made == [caught.value] and client.made[0] is caught.value
    assert caught.value.body == wire.error_body(message, kind=kind, code=kind)["error"]
    _check_error_span(instrumented, caught.value, error_class.__name__)


@pytest.mark.parametrize(("status", "error_class", "kind", "message"), ERRORS, ids=["400", "429", "500"])
async def test_api_error_async(
    instrumented: Telemetry, api: LoopbackAPI, status: int, error_class: type, kind: str, message: str
) -> None:
    api.route("POST", "/responses", Reply(status, wire.error_body(message, kind=kind, code=kind)))
    client = _AsyncRecordingClient(api_key="sk-test-safety", base_url=api.base_url + "/", max_retries=0)
    client.made = []
    with pytest.raises(error_class) as caught:
        await client.responses.create(model="gpt-4.1-mini", input="x")
    assert client.made[0] is caught.value
    _check_error_span(instrumented, caught.value, error_class.__name__)


def _refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_connection_refused_sync(instrumented: Telemetry) -> None:
    client = openai.OpenAI(api_key="sk-test-safety", base_url=_refused_url(), max_retries=0)
    with pytest.raises(openai.APIConnectionError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert type(caught.value) is openai.APIConnectionError
    _check_error_span(instrumented, caught.value, "APIConnectionError")


async def test_connection_refused_async(instrumented: Telemetry) -> None:
    client = openai.AsyncOpenAI(api_key="sk-test-safety", base_url=_refused_url(), max_retries=0)
    with pytest.raises(openai.APIConnectionError) as caught:
        await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True
        )
    assert type(caught.value) is openai.APIConnectionError
    _check_error_span(instrumented, caught.value, "APIConnectionError")
