"""llmtap instrumentor for the openai SDK: GenAI spans and metrics for every model call."""

from __future__ import annotations

from llmtap.plugin import LlmtapInstrumentor
from llmtap_openai.package import _instruments

__all__ = ["OpenAIInstrumentor"]


class OpenAIInstrumentor(LlmtapInstrumentor):
    """Chat Completions, Responses, Embeddings and legacy Completions, sync and async, streamed or not."""

    name = "openai"
    library = "openai"
    supported = _instruments

    def patch(self) -> None:
        from llmtap_openai.patch import patch

        patch(self)
