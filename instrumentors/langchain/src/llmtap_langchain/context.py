"""While a model's own code runs, its LangChain model span is the current span and its model-call
layer is open (`llmtap.layers`): the provider SDK's span nests below it and marks it covered. While a
retriever runs, its retrieval span is current, so the embeddings span of a vector-store query nests
below it.

Each attach is paired with a detach in `finally` inside the same call or generator step, so the
context never stays attached across a `yield` to the application, and no span leaks into
unrelated work (the next item of a batch, a parallel branch, the code consuming a stream).

While a runnable's own function runs (a `RunnableLambda`, a tool's `_run`, a LangGraph node), its
run's span is current, so spans the function starts (an application span, a provider SDK call)
nest below it: see `config_context_wrapper`, the one attach without a detach, made inside a context
copy that is thrown away afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace

from llmtap import credentials, layers
from llmtap.safety import report_internal_error

if TYPE_CHECKING:
    from llmtap_langchain.handler import LlmtapCallbackHandler
    from llmtap_langchain.runs import Run

Tokens = tuple[object, Token[Any]]
FindRun = Callable[["LlmtapCallbackHandler", Any, Any], "Run | None"]


def enter(run: Run) -> Tokens:
    """Make `run`'s span current and open its layer; pair with `leave` in `finally`.

    A model run's span is deferred (`llmtap.layers`): until it has one, its parent's span is current, so a
    provider SDK span started by the model's code takes its place in the tree.
    """
    return otel_context.attach(trace.set_span_in_context(run.context_span)), layers.enter(run.layer)


def leave(tokens: Tokens) -> None:
    context_token, layer_token = tokens
    layers.leave(layer_token)
    otel_context.detach(context_token)  # type: ignore[arg-type]


class Slot:
    """The run a wrapped call (`stream()`, a retriever's `invoke()`) started, filled by the handler."""

    __slots__ = ("run", "stream", "tokens")

    def __init__(self, stream: bool = False) -> None:
        self.run: Run | None = None
        self.tokens: Tokens | None = None
        self.stream = stream


_slot: ContextVar[Slot | None] = ContextVar("llmtap_langchain_slot", default=None)


def claim(run: Run) -> None:
    """Called by the handler when a model or retriever run starts: inside a wrapped call or stream step,
    make it current now. The call or step that called the handler leaves it when it ends.
    """
    slot = _slot.get()
    if slot is None or slot.run is not None:
        return
    slot.run = run
    run.streaming = slot.stream
    slot.tokens = enter(run)


class _Step:
    """One step of a wrapped call or stream: the slot is open, and its run current, until the step ends."""

    __slots__ = ("outer", "reset", "slot")

    def __init__(self, slot: Slot) -> None:
        self.slot = slot

    def __enter__(self) -> None:
        self.reset = _slot.set(self.slot)
        self.outer = enter(self.slot.run) if self.slot.run is not None else None

    def __exit__(self, *exc_info: object) -> None:
        slot = self.slot
        if slot.tokens is not None:  # claimed during this step
            tokens, slot.tokens = slot.tokens, None
            leave(tokens)
        if self.outer is not None:
            leave(self.outer)
        _slot.reset(self.reset)


_END = object()


def _steps(generator: Iterator[Any], slot: Slot) -> Iterator[Any]:
    try:
        while True:
            with _Step(slot):
                chunk = next(generator, _END)
            if chunk is _END:
                return
            yield chunk
    finally:
        close = getattr(generator, "close", None)
        if close is not None:
            close()


async def _asteps(generator: AsyncIterator[Any], slot: Slot) -> AsyncIterator[Any]:
    try:
        while True:
            with _Step(slot):
                chunk = await anext(generator, _END)
            if chunk is _END:
                return
            yield chunk
    finally:
        aclose = getattr(generator, "aclose", None)
        if aclose is not None:
            await aclose()


def stream_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    """For `BaseChatModel.stream` / `BaseLLM.stream`."""
    return _steps(wrapped(*args, **kwargs), Slot(stream=True))


def astream_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    """For `BaseChatModel.astream` / `BaseLLM.astream`."""
    return _asteps(wrapped(*args, **kwargs), Slot(stream=True))


def retriever_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    """For `BaseRetriever.invoke`: the retriever's span is current while it retrieves."""
    with _Step(Slot()):
        return wrapped(*args, **kwargs)


async def aretriever_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    """For `BaseRetriever.ainvoke`."""
    with _Step(Slot()):
        return await wrapped(*args, **kwargs)


def _chat_run(handler: LlmtapCallbackHandler, args: Any, kwargs: Any) -> Run | None:
    """`_generate_with_cache(messages, stop, run_manager, **kwargs)`: the run of `run_manager`."""
    manager = kwargs.get("run_manager", args[2] if len(args) > 2 else None)
    return handler.run(manager.run_id) if manager is not None else None


def _llm_run(handler: LlmtapCallbackHandler, args: Any, kwargs: Any) -> Run | None:
    """`_generate_helper(prompts, stop, run_managers, ...)`: one provider call for all the runs.

    LangChain passes only the first run manager to `_generate`; the runs share its layer.
    """
    managers = kwargs.get("run_managers", args[2] if len(args) > 2 else None)
    runs = [run for manager in managers or () if (run := handler.run(manager.run_id)) is not None]
    for run in runs[1:]:
        if run.invocation is not None and runs[0].invocation is not None:
            run.invocation.layer = runs[0].invocation.layer
    return runs[0] if runs else None


def _learn_credentials(model: Any) -> None:
    """The model's API key (a `SecretStr` field), whatever its shape, is never exported by any layer."""
    try:
        credentials.learn_secret_fields(model)
    except Exception as exc:
        report_internal_error("reading a LangChain model's credentials", exc)


def _sync_wrapper(find: FindRun, handler: LlmtapCallbackHandler) -> Any:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        run = find(handler, args, kwargs)
        if run is None:
            return wrapped(*args, **kwargs)
        _learn_credentials(instance)
        tokens = enter(run)
        try:
            return wrapped(*args, **kwargs)
        finally:
            leave(tokens)

    return wrapper


def _async_wrapper(find: FindRun, handler: LlmtapCallbackHandler) -> Any:
    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        run = find(handler, args, kwargs)
        if run is None:
            return await wrapped(*args, **kwargs)
        _learn_credentials(instance)
        tokens = enter(run)
        try:
            return await wrapped(*args, **kwargs)
        except asyncio.CancelledError as exc:
            # LangChain sends neither on_llm_end nor on_llm_error for a cancelled model call: end it here.
            handler.stopped(run, exc)
            raise
        finally:
            leave(tokens)

    return wrapper


def generate_wrapper(handler: LlmtapCallbackHandler) -> Any:
    """For `BaseChatModel._generate_with_cache`."""
    return _sync_wrapper(_chat_run, handler)


def agenerate_wrapper(handler: LlmtapCallbackHandler) -> Any:
    """For `BaseChatModel._agenerate_with_cache`."""
    return _async_wrapper(_chat_run, handler)


def llm_generate_wrapper(handler: LlmtapCallbackHandler) -> Any:
    """For `BaseLLM._generate_helper`."""
    return _sync_wrapper(_llm_run, handler)


def llm_agenerate_wrapper(handler: LlmtapCallbackHandler) -> Any:
    """For `BaseLLM._agenerate_helper`."""
    return _async_wrapper(_llm_run, handler)


def config_context_wrapper(handler: LlmtapCallbackHandler) -> Any:
    """For `langchain_core.runnables.config._set_config_context` and LangGraph's own
    `langgraph._internal._runnable._set_config_context`: the run's span is current in the context
    its function runs in.

    langchain-core (`set_config_context`, around a runnable's or tool's function) and LangGraph
    (around a node) prepare that context as `ctx = copy_context(); ctx.run(_set_config_context,
    child_config)`, then run the function with `ctx.run(func, ...)` or `asyncio.create_task(coro,
    context=ctx)`; `child_config["callbacks"]` is the run's child manager, whose `parent_run_id` is
    the run. Attaching the run's span there too makes it current exactly while the function runs.

    This attach has no detach, on purpose: it is made inside `ctx`, a fresh copy of the caller's
    context that LangChain uses only for this one run and then drops, so the span never becomes
    current in the caller's context, between stream chunks or in the next run (a context variable set
    in a copied context is invisible outside it). A paired detach would need a hook on the way out,
    which langchain-core does not have (it resets its config variable in `ctx` directly; only
    LangGraph has an `_unset_config_context`).
    """

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        result = wrapped(*args, **kwargs)
        try:
            config = args[0] if args else kwargs.get("config")
            parent_run_id = getattr(config.get("callbacks"), "parent_run_id", None) if config else None
            run = handler.run(parent_run_id) if parent_run_id is not None else None
            if run is not None:
                otel_context.attach(trace.set_span_in_context(run.context_span))
        except Exception as exc:
            report_internal_error("making a LangChain run's span current", exc)
        return result

    return wrapper
