"""llmtap instrumentor for LangChain: chains, chat models, retrievers, tools and agents as one trace.

Duplicate policy (`llmtap.layers`): every chat model / LLM run keeps its `chat` / `text_completion`
span with the full record. While the model's code runs, that span is current and its model-call
layer is open; if any llmtap provider span starts inside (ChatOpenAI, ChatAnthropic, or any custom
model calling an instrumented SDK), it nests below and the call's metrics (token usage, duration,
time to first chunk) are recorded once, by that provider span, not by the LangChain span. A model
that reaches no instrumented SDK (fake, custom, a provider without an llmtap plugin) records them
on its LangChain span.
"""

from __future__ import annotations

from typing import Any

from llmtap.plugin import LlmtapInstrumentor
from llmtap_langchain.package import _instruments

__all__ = ["LangChainInstrumentor", "LangChainPlugin"]


class LangChainPlugin(LlmtapInstrumentor):
    """A callback handler in every LangChain callback manager, plus the chat-model context hooks."""

    name = "langchain"
    library = "langchain_core"
    supported = _instruments

    def patch(self) -> None:
        from llmtap_langchain.patch import patch

        patch(self)


def __getattr__(name: str) -> Any:
    """`LangChainInstrumentor`, the `BaseInstrumentor` the `opentelemetry-instrument` launcher loads, on first use:
    it imports `opentelemetry.instrumentation`, which `llmtap.instrument()` does without."""
    if name == "LangChainInstrumentor":
        from llmtap_langchain.instrumentor import LangChainInstrumentor

        return LangChainInstrumentor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
