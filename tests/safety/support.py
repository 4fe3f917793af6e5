"""Shared pieces of the safety tests: clients on the loopback API and a clean llmtap environment."""

from __future__ import annotations

from typing import Any

import pytest

import anthropic
import openai
from tests.support import anthropic_wire
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply

# Every variable that changes what llmtap captures: cleared so the machine's environment cannot leak in.
SETTING_ENV = (
    "LLMTAP_CAPTURE_CONTENT",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    "LLMTAP_CONFIG",
    "LLMTAP_OPENAI_STREAM_USAGE",
    "LLMTAP_ENABLED",
    "OTEL_SDK_DISABLED",
    "LLMTAP_MAX_CONTENT_CHARS",
    "LLMTAP_MAX_ATTRIBUTE_CHARS",
    "LLMTAP_REDACT",
    "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
    "ANTHROPIC_OPEN_TELEMETRY",
)


def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTING_ENV:
        monkeypatch.delenv(name, raising=False)


def openai_client(api: LoopbackAPI, key: str = "sk-test-safety-000000", **options: Any) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=api.base_url + "/", max_retries=0, **options)


def anthropic_client(api: LoopbackAPI, key: str = "sk-ant-api03-test-safety-0000") -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=key, base_url=api.base_url, max_retries=0)


def serve_chat(api: LoopbackAPI, text: str = "Fine.") -> None:
    api.route("POST", "/chat/completions", Reply(body=wire.chat_completion(text)))


def serve_messages(api: LoopbackAPI, text: str = "Fine.") -> None:
    api.route("POST", "/v1/messages", Reply(body=anthropic_wire.message([{"type": "text", "text": text}])))
