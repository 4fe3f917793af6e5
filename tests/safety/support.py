"""Shared pieces of the safety tests: clients on the loopback API."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
from tests.support import anthropic_wire
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply


def openai_client(api: LoopbackAPI, key: str = "sk-test-safety-000000", **options: Any) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=api.base_url + "/", max_retries=0, **options)


def anthropic_client(api: LoopbackAPI, key: str = "sk-ant-api03-test-safety-0000") -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=key, base_url=api.base_url, max_retries=0)


def serve_chat(api: LoopbackAPI, text: str = "Fine.") -> None:
    api.route("POST", "/chat/completions", Reply(body=wire.chat_completion(text)))


def serve_messages(api: LoopbackAPI, text: str = "Fine.") -> None:
    api.route("POST", "/v1/messages", Reply(body=anthropic_wire.message([{"type": "text", "text": text}])))
