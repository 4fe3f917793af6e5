"""Issue 8 §3: no credential in any exported byte, at every layer, whatever the key's shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.tools import tool as langchain_tool
from langchain_openai import AzureChatOpenAI, ChatOpenAI
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.trace import StatusCode

import llmtap
import openai
from llmtap.redaction import credential_name
from tests.support import openai_wire as wire
from tests.support.environment import clean_env
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry, attribute_json

GROQ_KEY = "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"
AZURE_KEY = "3f9a1c7e5b2d4f608a1e9c3b7d5f2a4c"  # 32 hex digits: no key pattern knows this shape


def _quoting_error(key: str) -> Reply:
    return Reply(401, wire.error_body(f"Invalid API Key: {key}", kind="invalid_request_error", code="invalid_api_key"))


def _check_scrubbed(telemetry: Telemetry, error: BaseException, key: str, types: list[str]) -> None:
    errored = [span for span in telemetry.genai_spans() if span.status.status_code is StatusCode.ERROR]
    assert sorted(span.attributes["error.type"] for span in errored) == types
    for span in errored:
        assert span.status.description == str(error).replace(key, "[REDACTED]")
    assert key not in telemetry.everything_exported()


# With the openai plugin on, the SDK span is the one model span of the call (issue 8 §1) and records the SDK's
# error; with LangChain alone, the LangChain model span records langchain-openai's subclass of it.
SDK_SPAN = ["AuthenticationError"]


@pytest.mark.parametrize("providers", [None, ["langchain"]], ids=["all-plugins", "langchain-only"])
def test_groq_key_in_a_langchain_error(
    telemetry: Telemetry, api: LoopbackAPI, monkeypatch: pytest.MonkeyPatch, providers: list[str] | None
) -> None:
    clean_env(monkeypatch)
    llmtap.instrument(
        providers=providers,
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        config={},
    )
    try:
        api.route("POST", "/chat/completions", _quoting_error(GROQ_KEY))
        model = ChatOpenAI(model="llama-3.3-70b", api_key=GROQ_KEY, base_url=api.base_url, max_retries=0)
        with pytest.raises(openai.AuthenticationError) as caught:
            model.invoke("Hello")
    finally:
        llmtap.uninstrument()
    assert GROQ_KEY in str(caught.value)  # the application's exception is untouched
    _check_scrubbed(telemetry, caught.value, GROQ_KEY, ["OpenAIAuthenticationError"] if providers else SDK_SPAN)


@pytest.mark.parametrize("providers", [None, ["langchain"]], ids=["all-plugins", "langchain-only"])
def test_azure_hex_key_in_a_langchain_error(
    telemetry: Telemetry, api: LoopbackAPI, monkeypatch: pytest.MonkeyPatch, providers: list[str] | None
) -> None:
    clean_env(monkeypatch)
    llmtap.instrument(
        providers=providers,
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        config={},
    )
    try:
        api.route("POST", "/openai/deployments/gpt-4o-mini/chat/completions", _quoting_error(AZURE_KEY))
        model = AzureChatOpenAI(
            azure_endpoint=api.base_url,
            azure_deployment="gpt-4o-mini",
            api_version="2024-10-21",
            api_key=AZURE_KEY,
            max_retries=0,
        )
        with pytest.raises(openai.AuthenticationError) as caught:
            model.invoke("Hello")
    finally:
        llmtap.uninstrument()
    assert api.requests[-1].headers["api-key"] == AZURE_KEY
    _check_scrubbed(telemetry, caught.value, AZURE_KEY, ["OpenAIAuthenticationError"] if providers else SDK_SPAN)


def test_auth_header_of_a_client_is_never_exported(instrumented: Telemetry, api: LoopbackAPI) -> None:
    token = "proxy-token-7f3a9c1e5b"
    api.route("POST", "/chat/completions", Reply(400, wire.error_body(f"bad proxy token {token}", kind="x", code=None)))
    client = openai.OpenAI(
        api_key="unused-key-000000",
        base_url=api.base_url + "/",
        max_retries=0,
        default_headers={"Proxy-Authorization": f"Bearer {token}"},
    )
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"echo {token}"}])
    span = instrumented.only_span()
    assert span.status.description == "Error code: 400 - bad proxy token [REDACTED]"
    assert attribute_json(span, gen_ai.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "echo [REDACTED]"}]}
    ]
    assert token not in instrumented.everything_exported()


# --- credential-named arguments ---------------------------------------------------------------------------


def test_credential_named_arguments_of_a_decorated_tool(instrumented: Telemetry) -> None:
    @llmtap.tool
    def deploy(service: str, api_key: str, options: dict[str, Any]) -> dict[str, Any]:
        return {"status": "ok", "session_token": "tok-abcdef", "token_count": 3}

    deploy(
        "web",
        "plain-secret-value",
        {"region": "eu", "Authorization": "Basic xyz", "nested": {"password": "hunter2", "max_tokens": 5}},
    )
    span = instrumented.only_span()
    assert attribute_json(span, gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS) == {
        "service": "web",
        "api_key": "[REDACTED]",
        "options": {
            "region": "eu",
            "Authorization": "[REDACTED]",
            "nested": {"password": "[REDACTED]", "max_tokens": 5},
        },
    }
    assert attribute_json(span, gen_ai.GEN_AI_TOOL_CALL_RESULT) == {
        "status": "ok",
        "session_token": "[REDACTED]",
        "token_count": 3,
    }
    assert "plain-secret-value" not in instrumented.everything_exported()


def test_credential_named_arguments_of_a_langchain_tool(instrumented: Telemetry) -> None:
    @langchain_tool
    def fetch(url: str, api_key: str, headers: dict[str, str]) -> str:
        """Fetch a URL."""
        return "fetched"

    assert fetch.invoke(
        {"url": "https://example.com", "api_key": "plain-secret-value", "headers": {"X-Api-Key": "k-1"}}
    )
    span = instrumented.only_span()
    assert span.name == "execute_tool fetch"
    assert attribute_json(span, gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS) == {
        "url": "https://example.com",
        "api_key": "[REDACTED]",
        "headers": {"X-Api-Key": "[REDACTED]"},
    }
    assert "plain-secret-value" not in instrumented.everything_exported()


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "apiKey",
        "APIKey",
        "x-api-key",
        "Authorization",
        "password",
        "db_password",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refreshToken",
        "credentials",
        "session_cookie",
        "private_key",
        "aws_access_key",
        "AWS_SECRET_ACCESS_KEY",
        "passphrase",
        "auth",
    ],
)
def test_credential_names(name: str) -> None:
    assert credential_name(name)


@pytest.mark.parametrize(
    "name",
    ["max_tokens", "token_count", "tokens", "key", "cache_key", "primary_key_id", "author", "keyword", "secretary"],
)
def test_not_credential_names(name: str) -> None:
    assert not credential_name(name)


@pytest.fixture
def _clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    clean_env(monkeypatch)
    yield


def test_credential_named_langchain_metadata(instrumented: Telemetry) -> None:
    from langchain_core.runnables import RunnableLambda

    chain = RunnableLambda(lambda text: text.upper()).with_config(run_name="shout")
    metadata = {"api_key": "plain-secret-value", "user": "u1", "note": f"uses {GROQ_KEY}"}
    assert chain.invoke("hi", config={"metadata": metadata}) == "HI"
    span = instrumented.only_span()
    assert {key: value for key, value in span.attributes.items() if key.startswith("llmtap.langchain.metadata.")} == {
        "llmtap.langchain.metadata.api_key": "[REDACTED]",
        "llmtap.langchain.metadata.user": "u1",
        "llmtap.langchain.metadata.note": "uses [REDACTED]",
    }
    assert "plain-secret-value" not in instrumented.everything_exported()
