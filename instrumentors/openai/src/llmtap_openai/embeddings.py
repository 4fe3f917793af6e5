"""`/embeddings`: request and response to the neutral record (no content: inputs are not messages)."""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from llmtap.record import LLMCall, Usage

OPERATION = "embeddings"


def build_call(body: dict[str, Any], capture_content: bool) -> LLMCall:
    call = LLMCall(provider="openai", operation=OPERATION, request_model=body.get("model"), capture_content=False)
    encoding = body.get("encoding_format")
    if encoding:
        call.request_attributes[gen_ai.GEN_AI_REQUEST_ENCODING_FORMATS] = [encoding]
    if body.get("dimensions") is not None:
        call.request_attributes[gen_ai.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = body["dimensions"]
    return call


def record_response(call: LLMCall, response: Any) -> None:
    call.response_model = getattr(response, "model", None)
    usage = getattr(response, "usage", None)
    if usage is not None:
        call.usage = Usage(input_tokens=usage.prompt_tokens)
    data = getattr(response, "data", None)
    if data and isinstance(data[0].embedding, list):
        call.attributes[gen_ai.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = len(data[0].embedding)
