"""Which OpenAI endpoint a low-level request is for, and the record it starts."""

from __future__ import annotations

import copy
from typing import Any

from llmtap.config import Settings
from llmtap.stainless import Endpoint, Route
from llmtap_openai import chat, completions, embeddings, responses

_ENDPOINTS = {
    "/chat/completions": (chat.build_call, Endpoint(chat.record_response, chat.ChatStreamState)),
    "/responses": (responses.build_call, Endpoint(responses.record_response, responses.ResponsesStreamState)),
    "/embeddings": (embeddings.build_call, Endpoint(embeddings.record_response)),
    "/completions": (completions.build_call, Endpoint(completions.record_response, completions.CompletionStreamState)),
}


# The semantic conventions' provider name for Azure OpenAI, whose clients are subclasses of the OpenAI ones.
AZURE_PROVIDER = "azure.ai.openai"
_AZURE_CLIENTS = frozenset({"AzureOpenAI", "AsyncAzureOpenAI"})


def _with_usage_requested(options: Any, body: dict[str, Any]) -> Any:
    """A copy of `options` whose body asks for the final usage chunk (`stream_options.include_usage`)."""
    stream_options = body.get("stream_options")
    new_options = copy.copy(options)
    new_options.json_data = {
        **body,
        "stream_options": {**(stream_options if isinstance(stream_options, dict) else {}), "include_usage": True},
    }
    return new_options


def route(client: Any, options: Any, settings: Settings) -> Route | None:
    entry = _ENDPOINTS.get(options.url)
    if entry is None or options.method.lower() != "post":
        return None
    body = options.json_data
    if not isinstance(body, dict):
        return None
    build_call, endpoint = entry
    extra = getattr(options, "extra_json", None)
    # What is sent: the body merged with `extra_body=` (how OpenAI-compatible servers get e.g. `top_k`).
    call = build_call({**body, **extra} if isinstance(extra, dict) and extra else body, settings.capture_content)
    if type(client).__name__ in _AZURE_CLIENTS:
        call.provider = AZURE_PROVIDER
    hide = None
    if settings.openai_stream_usage and endpoint.stream_state is chat.ChatStreamState and body.get("stream"):
        stream_options = body.get("stream_options")
        if not (isinstance(stream_options, dict) and stream_options.get("include_usage")):
            options = _with_usage_requested(options, body)
            hide = chat.is_usage_only_chunk
    return Route(endpoint, call, options, hide)
