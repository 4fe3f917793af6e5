"""llmtap instrumentor for the anthropic SDK: GenAI spans and metrics for every model call."""

from __future__ import annotations

from typing import Any

from llmtap import responses as _responses
from llmtap.plugin import LlmtapInstrumentor
from llmtap_anthropic import messages
from llmtap_anthropic.package import _instruments

__all__ = ["AnthropicInstrumentor", "AnthropicPlugin"]

# The converter this plugin records responses with, also for `LLMSpan.set_response(sdk_object)`.
_responses.register("anthropic", "anthropic.types", "Message", messages.record_response)
_responses.register("anthropic", "anthropic.types.beta", "BetaMessage", messages.record_response)


class AnthropicPlugin(LlmtapInstrumentor):
    """Messages (create, stream helper, parse, beta) and token counting, sync and async."""

    name = "anthropic"
    library = "anthropic"
    supported = _instruments

    def patch(self) -> None:
        from llmtap_anthropic.patch import patch

        patch(self)


def __getattr__(name: str) -> Any:
    """`AnthropicInstrumentor`, the `BaseInstrumentor` the `opentelemetry-instrument` launcher loads, on first use:
    it imports `opentelemetry.instrumentation`, which `llmtap.instrument()` does without."""
    if name == "AnthropicInstrumentor":
        from llmtap_anthropic.instrumentor import AnthropicInstrumentor

        return AnthropicInstrumentor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
