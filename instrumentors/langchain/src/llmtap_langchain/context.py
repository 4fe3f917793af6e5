"""While a model's own code runs, its LangChain model span is the current span and its model-call
layer is open (`llmtap.layers`): the provider SDK's span nests below it and marks it covered.

Each attach is paired with a detach in `finally` inside the same call or generator step, so the
context never stays attached across a `yield` to the application, and no span leaks into
unrelated work (the next item of a batch, a parallel branch, the code consuming a stream).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace

from llmtap import layers

if TYPE_CHECKING:
    from llmtap_langchain.handler import LlmtapCallbackHandler, Run

Tokens = tuple[object, Token[Any]]
FindRun = Callable[["LlmtapCallbackHandler", Any, Any], "Run | None"]


def enter(run: Run) -> Tokens:
    """Make `run`'s span current and open its layer; pair with `leave` in `finally`."""
    return otel_context.attach(trace.set_span_in_context(run.span)), layers.enter(run.layer)


def leave(tokens: Tokens) -> None:
    context_token, layer_token = tokens
    layers.leave(layer_token)
    otel_context.detach(context_token)  # type: ignore[arg-type]


class StreamSlot:
    """The run a `stream()` / `astream()` call started, filled by the handler during the first step."""

    __slots__ = ("run", "tokens")

    def __init__(self) -> None:
        self.run: Run | None = None
        self.tokens: Tokens | None = None


_slot: ContextVar[StreamSlot | None] = ContextVar("llmtap_langchain_stream", default=None)


def claim(run: Run) -> None:
    """Called by the handler when a model run starts: inside a stream step, make it current now.

    The step that called the handler leaves it when the step ends.
    """
    slot = _slot.get()
    if slot is None or slot.run is not None:
        return
    slot.run = run
    slot.tokens = enter(run)


def _enter(slot: StreamSlot) -> tuple[Token[StreamSlot | None], Tokens | None]:
    reset = _slot.set(slot)
    return reset, enter(slot.run) if slot.run is not None else None


def _leave(slot: StreamSlot, reset: Token[StreamSlot | None], outer: Tokens | None) -> None:
    if slot.tokens is not None:
        tokens, slot.tokens = slot.tokens, None
        leave(tokens)
    if outer is not None:
        leave(outer)
    _slot.reset(reset)


def _steps(generator: Iterator[Any], slot: StreamSlot) -> Iterator[Any]:
    try:
        while True:
            reset, outer = _enter(slot)
            try:
                chunk = next(generator)
            except StopIteration:
                return
            finally:
                _leave(slot, reset, outer)
            yield chunk
    finally:
        close = getattr(generator, "close", None)
        if close is not None:
            close()


async def _asteps(generator: AsyncIterator[Any], slot: StreamSlot) -> AsyncIterator[Any]:
    try:
        while True:
            reset, outer = _enter(slot)
            try:
                chunk = await generator.__anext__()
            except StopAsyncIteration:
                return
            finally:
                _leave(slot, reset, outer)
            yield chunk
    finally:
        aclose = getattr(generator, "aclose", None)
        if aclose is not None:
            await aclose()


def stream_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    """For `BaseChatModel.stream` / `BaseLLM.stream`."""
    return _steps(wrapped(*args, **kwargs), StreamSlot())


def astream_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    """For `BaseChatModel.astream` / `BaseLLM.astream`."""
    return _asteps(wrapped(*args, **kwargs), StreamSlot())


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
        run.layer = runs[0].layer
    return runs[0] if runs else None


def _sync_wrapper(find: FindRun, handler: LlmtapCallbackHandler) -> Any:
    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        run = find(handler, args, kwargs)
        if run is None:
            return wrapped(*args, **kwargs)
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
        tokens = enter(run)
        try:
            return await wrapped(*args, **kwargs)
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
