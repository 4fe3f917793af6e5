"""llmtap instrumentor for LangChain: chains, chat models, retrievers, tools and agents as one trace.

Duplicate policy: a chat model whose API call is also traced by an llmtap provider plugin (a
`langchain_openai` / `langchain_anthropic` model, or a subclass, with that SDK instrumented) keeps
its `chat` span with the full record, and the provider span nests below it; the call's metrics
(token usage, duration, time to first chunk) are recorded once, by the provider span. Any other
model (custom, fake, a provider without an llmtap plugin) records them on its LangChain span.
"""

from __future__ import annotations

from llmtap.plugin import LlmtapInstrumentor
from llmtap_langchain.package import _instruments

__all__ = ["LangChainInstrumentor"]


class LangChainInstrumentor(LlmtapInstrumentor):
    """A callback handler in every LangChain callback manager, plus the chat-model context hooks."""

    name = "langchain"
    library = "langchain_core"
    supported = _instruments

    def patch(self) -> None:
        from llmtap_langchain.patch import patch

        patch(self)
