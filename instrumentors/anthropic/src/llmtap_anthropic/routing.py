"""Which Anthropic endpoint a low-level request is for, and the record it starts."""

from __future__ import annotations

from typing import Any

from anthropic import NotGiven, Omit
from llmtap.config import Settings
from llmtap.stainless import Endpoint, Route
from llmtap_anthropic import count_tokens, messages

_OMITTED = (Omit, NotGiven)

# `beta.messages.*` use the same paths (some SDK versions add `?beta=true`).
_ENDPOINTS = {
    "/v1/messages": (
        messages.build_call,
        Endpoint(messages.record_response, messages.MessagesStreamState, messages.record_stream, messages.record_error),
    ),
    "/v1/messages/count_tokens": (
        count_tokens.build_call,
        Endpoint(count_tokens.record_response, record_error=messages.record_error),
    ),
}


def route(client: Any, options: Any, settings: Settings) -> Route | None:
    entry = _ENDPOINTS.get(options.url.split("?", 1)[0])
    if entry is None or options.method.lower() != "post":
        return None
    body = options.json_data
    if not isinstance(body, dict):
        return None
    extra = getattr(options, "extra_json", None)
    # What is sent: the body less its omitted (`Omit` / `NotGiven`) values, merged with `extra_body=`.
    body = {key: value for key, value in body.items() if not isinstance(value, _OMITTED)}
    if isinstance(extra, dict) and extra:
        body = {**body, **extra}
    build_call, endpoint = entry
    return Route(endpoint, build_call(body, settings.capture_content), options)
