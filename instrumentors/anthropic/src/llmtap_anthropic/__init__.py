"""llmtap instrumentor for the anthropic SDK: GenAI spans and metrics for every model call."""

from __future__ import annotations

from llmtap.plugin import LlmtapInstrumentor
from llmtap_anthropic.package import _instruments

__all__ = ["AnthropicInstrumentor"]


class AnthropicInstrumentor(LlmtapInstrumentor):
    """Messages (create, stream helper, parse, beta) and token counting, sync and async."""

    name = "anthropic"
    library = "anthropic"
    supported = _instruments

    def patch(self) -> None:
        from llmtap_anthropic.patch import patch

        patch(self)
