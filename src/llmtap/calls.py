"""The generic lifecycle of an instrumented SDK call, shared by every provider plugin.

The plugin builds the record (`begin`), then `traced_call` runs the SDK call with the span current;
`on_result` looks at the SDK's result and either ends the invocation or hands it on (to a stream or a
deferred parse). The SDK's result or exception always reaches the caller unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from llmtap.invocation import Invocation
from llmtap.record import LLMCall
from llmtap.runtime import Runtime
from llmtap.safety import report_internal_error

OnResult = Callable[[Invocation, Any], None]
OnError = Callable[[Invocation, BaseException], None]


def begin(runtime: Runtime, build: Callable[[], LLMCall | None]) -> Invocation | None:
    """Start an invocation for the record `build` makes; None (never an exception) if that fails."""
    try:
        call = build()
        return None if call is None else Invocation(runtime.emitter, call)
    except Exception as exc:
        report_internal_error("starting a span", exc)
        return None


def _failed(invocation: Invocation, error: BaseException, on_error: OnError | None) -> None:
    if on_error is not None:
        try:
            on_error(invocation, error)
        except Exception as exc:
            report_internal_error("recording an error", exc)
    invocation.end(error)


def _complete(invocation: Invocation, result: Any, on_result: OnResult) -> None:
    try:
        on_result(invocation, result)
    except Exception as exc:
        report_internal_error("recording a response", exc)
        invocation.end()


def traced_call(
    invocation: Invocation,
    wrapped: Callable[..., Any],
    args: Any,
    kwargs: Any,
    on_result: OnResult,
    on_error: OnError | None = None,
) -> Any:
    token = invocation.activate()
    try:
        result = wrapped(*args, **kwargs)
    except BaseException as exc:
        invocation.deactivate(token)
        _failed(invocation, exc, on_error)
        raise
    invocation.deactivate(token)
    _complete(invocation, result, on_result)
    return result


async def atraced_call(
    invocation: Invocation,
    wrapped: Callable[..., Awaitable[Any]],
    args: Any,
    kwargs: Any,
    on_result: OnResult,
    on_error: OnError | None = None,
) -> Any:
    token = invocation.activate()
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        invocation.deactivate(token)
        _failed(invocation, exc, on_error)
        raise
    invocation.deactivate(token)
    _complete(invocation, result, on_result)
    return result
