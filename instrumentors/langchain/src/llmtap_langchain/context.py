"""The chat-model span is the current span while the model's provider SDK runs.

Each attach is paired with a detach in `finally` inside the same call or generator step, so the
context never stays attached across a `yield` to the application, and no span leaks into
unrelated work (the next item of a batch, a parallel branch, the code consuming a stream).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace

if TYPE_CHECKING:
    from llmtap_langchain.handler import LlmtapCallbackHandler, Run


class StreamSlot:
    """The run a `stream()` / `astream()` call started, filled by the handler during the first step."""

    __slots__ = ("model_class", "run", "token")

    def __init__(self, model_class: type) -> None:
        self.model_class = model_class
        self.run: Run | None = None
        self.token: object | None = None


_slot: ContextVar[StreamSlot | None] = ContextVar("llmtap_langchain_stream", default=None)


def claim(run: Run) -> None:
    """Called by the handler when a model run starts: inside a stream step, make it current now.

    The step that called the handler detaches it when the step ends.
    """
    slot = _slot.get()
    if slot is None or slot.run is not None:
        return
    slot.run = run
    run.model_class = slot.model_class
    slot.token = otel_context.attach(trace.set_span_in_context(run.span))


def _enter(slot: StreamSlot) -> tuple[Any, object | None]:
    reset = _slot.set(slot)
    outer = otel_context.attach(trace.set_span_in_context(slot.run.span)) if slot.run is not None else None
    return reset, outer


def _leave(slot: StreamSlot, reset: Any, outer: object | None) -> None:
    if slot.token is not None:
        token, slot.token = slot.token, None
        otel_context.detach(token)  # type: ignore[arg-type]
    if outer is not None:
        otel_context.detach(outer)  # type: ignore[arg-type]
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
    return _steps(wrapped(*args, **kwargs), StreamSlot(type(instance)))


def astream_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    return _asteps(wrapped(*args, **kwargs), StreamSlot(type(instance)))


def _run_of(handler: LlmtapCallbackHandler, instance: Any, args: Any, kwargs: Any) -> Run | None:
    manager = kwargs.get("run_manager", args[2] if len(args) > 2 else None)
    run = handler.run(manager.run_id) if manager is not None else None
    if run is not None:
        run.model_class = type(instance)
    return run


def generate_wrapper(handler: LlmtapCallbackHandler) -> Callable[..., Any]:
    """For `BaseChatModel._generate_with_cache(messages, stop, run_manager, **kwargs)`."""

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        run = _run_of(handler, instance, args, kwargs)
        if run is None:
            return wrapped(*args, **kwargs)
        token = otel_context.attach(trace.set_span_in_context(run.span))
        try:
            return wrapped(*args, **kwargs)
        finally:
            otel_context.detach(token)

    return wrapper


def agenerate_wrapper(handler: LlmtapCallbackHandler) -> Callable[..., Any]:
    """For `BaseChatModel._agenerate_with_cache(messages, stop, run_manager, **kwargs)`."""

    async def wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        run = _run_of(handler, instance, args, kwargs)
        if run is None:
            return await wrapped(*args, **kwargs)
        token = otel_context.attach(trace.set_span_in_context(run.span))
        try:
            return await wrapped(*args, **kwargs)
        finally:
            otel_context.detach(token)

    return wrapper
