"""A new record from a request body: the parts every provider's request shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from llmtap.record import LLMCall


def new_call(
    provider: str,
    operation: str,
    body: Mapping[str, Any],
    capture_content: bool,
    scalars: Mapping[str, str],
    *,
    stop_key: str,
) -> LLMCall:
    """The record of a request: model, stream flag, stop sequences, and the `scalars` (body key ->
    attribute name) that are set in `body`."""
    call = LLMCall(
        provider=provider,
        operation=operation,
        request_model=body.get("model"),
        capture_content=capture_content,
        streaming=bool(body.get("stream")),
    )
    attributes = call.request_attributes
    for key, name in scalars.items():
        value = body.get(key)
        if value is not None:
            attributes[name] = value
    if call.streaming:
        attributes[gen_ai.GEN_AI_REQUEST_STREAM] = True
    stop = body.get(stop_key)
    if stop:
        attributes[gen_ai.GEN_AI_REQUEST_STOP_SEQUENCES] = [stop] if isinstance(stop, str) else list(stop)
    return call
