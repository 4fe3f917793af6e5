"""Where llmtap patches the openai SDK: the shared Stainless hooks, plus openai's stream helpers."""

from __future__ import annotations

from llmtap import stainless
from llmtap.plugin import LlmtapInstrumentor
from llmtap_openai.routing import route

HELPERS = (
    stainless.Helper(
        "openai.lib.streaming.chat._completions",
        "ChatCompletionStream",
        "AsyncChatCompletionStream",
        "get_final_completion",
    ),
    stainless.Helper(
        "openai.lib.streaming.responses._responses", "ResponseStream", "AsyncResponseStream", "get_final_response"
    ),
)


def patch(instrumentor: LlmtapInstrumentor) -> None:
    stainless.patch_sdk(instrumentor, "openai", route, HELPERS)
