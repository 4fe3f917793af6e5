"""Where llmtap hooks into langchain-core."""

from __future__ import annotations

from typing import Any

import wrapt

from llmtap.plugin import LlmtapInstrumentor
from llmtap.safety import report_internal_error
from llmtap_langchain import agents, context, embeddings
from llmtap_langchain.handler import LlmtapCallbackHandler

_CHAT_MODELS = "langchain_core.language_models.chat_models"
_LLMS = "langchain_core.language_models.llms"
_LANGGRAPH_RUNNABLE = "langgraph._internal._runnable"


def configure_wrapper(handler: LlmtapCallbackHandler) -> Any:
    """Every callback manager LangChain configures gets the handler (inheritable, once): no user code changes.

    `CallbackManager.configure` / `AsyncCallbackManager.configure` (through `_configure`) is where every
    runnable, model, tool and retriever call builds its manager; run managers and child managers are
    copied from it with the inheritable handlers, so they carry the handler too. (Patching
    `BaseCallbackManager.__init__` instead works as well but runs ~4x as often: each copy, child and
    run manager.)
    """

    def wrapper(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        manager = wrapped(*args, **kwargs)
        try:
            if handler not in manager.inheritable_handlers:
                manager.add_handler(handler, inherit=True)
        except Exception:  # never break LangChain's own set-up
            pass
        return manager

    return wrapper


def patch(instrumentor: LlmtapInstrumentor) -> LlmtapCallbackHandler:
    handler = LlmtapCallbackHandler()
    wrap = instrumentor.wrap
    wrap("langchain_core.callbacks.manager", "_configure", configure_wrapper(handler))
    wrap(_CHAT_MODELS, "BaseChatModel._generate_with_cache", context.generate_wrapper(handler))
    wrap(_CHAT_MODELS, "BaseChatModel._agenerate_with_cache", context.agenerate_wrapper(handler))
    wrap(_CHAT_MODELS, "BaseChatModel.stream", context.stream_wrapper)
    wrap(_CHAT_MODELS, "BaseChatModel.astream", context.astream_wrapper)
    wrap(_LLMS, "BaseLLM._generate_helper", context.llm_generate_wrapper(handler))
    wrap(_LLMS, "BaseLLM._agenerate_helper", context.llm_agenerate_wrapper(handler))
    wrap(_LLMS, "BaseLLM.stream", context.stream_wrapper)
    wrap(_LLMS, "BaseLLM.astream", context.astream_wrapper)
    wrap("langchain_core.retrievers", "BaseRetriever.invoke", context.retriever_wrapper)
    wrap("langchain_core.retrievers", "BaseRetriever.ainvoke", context.aretriever_wrapper)
    wrap("langchain_core.runnables.config", "_set_config_context", context.config_context_wrapper(handler))
    embeddings.patch(instrumentor)
    instrumentor.langchain_handler = handler  # type: ignore[attr-defined]
    # LangGraph runs its nodes in a context of its own making (`context.config_context_wrapper`); patched
    # when (and if) it is imported. A hook left from an earlier `instrument()` sees another handler and
    # does nothing.
    wrapt.register_post_import_hook(_langgraph_hook(instrumentor, handler), _LANGGRAPH_RUNNABLE)
    # A LangGraph agent built with a name is an agent (`llmtap_langchain.agents`).
    for module, hook in agents.hooks(instrumentor, lambda: _current(instrumentor, handler)):
        wrapt.register_post_import_hook(hook, module)
    return handler


def _current(instrumentor: LlmtapInstrumentor, handler: LlmtapCallbackHandler) -> bool:
    """A hook left from an earlier `instrument()` sees another handler and does nothing."""
    return instrumentor._active and getattr(instrumentor, "langchain_handler", None) is handler


def _langgraph_hook(instrumentor: LlmtapInstrumentor, handler: LlmtapCallbackHandler) -> Any:
    def hook(module: Any) -> None:
        if not _current(instrumentor, handler):
            return
        try:
            if hasattr(module, "_set_config_context"):
                instrumentor.wrap_attribute(module, "_set_config_context", context.config_context_wrapper(handler))
        except Exception as exc:
            report_internal_error("patching langgraph", exc)

    return hook
