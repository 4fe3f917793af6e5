"""llmtap instrumentor for the openai SDK: GenAI spans and metrics for every model call."""

from __future__ import annotations

from typing import Any

from llmtap import responses as _responses
from llmtap.plugin import LlmtapInstrumentor
from llmtap_openai import chat, completions, embeddings, responses
from llmtap_openai.package import _instruments

__all__ = ["OpenAIInstrumentor", "OpenAIPlugin"]

# The converters this plugin records responses with, also for `LLMSpan.set_response(sdk_object)`.
_responses.register("openai", "openai.types.chat", "ChatCompletion", chat.record_response)
_responses.register("openai", "openai.types.responses", "Response", responses.record_response)
_responses.register("openai", "openai.types", "Completion", completions.record_response)
_responses.register("openai", "openai.types", "CreateEmbeddingResponse", embeddings.record_response)


class OpenAIPlugin(LlmtapInstrumentor):
    """Chat Completions, Responses, Embeddings and legacy Completions, sync and async, streamed or not."""

    name = "openai"
    library = "openai"
    supported = _instruments

    def patch(self) -> None:
        from llmtap_openai.patch import patch

        patch(self)


def __getattr__(name: str) -> Any:
    """`OpenAIInstrumentor`, the `BaseInstrumentor` the `opentelemetry-instrument` launcher loads, on first use:
    it imports `opentelemetry.instrumentation`, which `llmtap.instrument()` does without."""
    if name == "OpenAIInstrumentor":
        from llmtap_openai.instrumentor import OpenAIInstrumentor

        return OpenAIInstrumentor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
