"""Where llmtap hooks into langchain-core."""

from __future__ import annotations

from typing import Any

from llmtap.plugin import LlmtapInstrumentor
from llmtap_langchain import context
from llmtap_langchain.handler import LlmtapCallbackHandler

_CHAT_MODELS = "langchain_core.language_models.chat_models"


def manager_init_wrapper(handler: LlmtapCallbackHandler) -> Any:
    """Every callback manager LangChain builds gets the handler (inheritable, once): no user code changes."""

    def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> None:
        wrapped(*args, **kwargs)
        try:
            if handler not in instance.inheritable_handlers:
                instance.add_handler(handler, inherit=True)
        except Exception:  # never break LangChain's own set-up
            pass

    return wrapper


def patch(instrumentor: LlmtapInstrumentor) -> LlmtapCallbackHandler:
    handler = LlmtapCallbackHandler()
    wrap = instrumentor.wrap
    wrap("langchain_core.callbacks.base", "BaseCallbackManager.__init__", manager_init_wrapper(handler))
    wrap(_CHAT_MODELS, "BaseChatModel._generate_with_cache", context.generate_wrapper(handler))
    wrap(_CHAT_MODELS, "BaseChatModel._agenerate_with_cache", context.agenerate_wrapper(handler))
    wrap(_CHAT_MODELS, "BaseChatModel.stream", context.stream_wrapper)
    wrap(_CHAT_MODELS, "BaseChatModel.astream", context.astream_wrapper)
    return handler
