"""`/v1/messages/count_tokens`: a span with the count and the model, never content."""

from __future__ import annotations

from typing import Any

from llmtap.record import LLMCall

OPERATION = "count_tokens"
INPUT_TOKENS = "anthropic.message.count_tokens.input_tokens"  # the name the SDK's own span uses


def build_call(body: dict[str, Any], capture_content: bool) -> LLMCall:
    # No token usage either: counting consumes no tokens, so nothing goes to `gen_ai.client.token.usage`.
    return LLMCall(provider="anthropic", operation=OPERATION, request_model=body.get("model"), capture_content=False)


def record_response(call: LLMCall, response: Any) -> None:
    count = getattr(response, "input_tokens", None)
    if isinstance(count, int):
        call.attributes[INPUT_TOKENS] = count
