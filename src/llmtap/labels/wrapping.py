"""Run a function of any kind (sync, async, generator, async generator) inside a `Scope`.

A scope is opened once per call, resumed around every stretch of the function's own code (for a
generator: each step between yields, so the caller's code between steps is outside it), suspended
after each stretch and closed once at the end with the exception that ended the call, if any.
Used by `llmtap.tags` (labels current) and the structure decorators (a span current).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class Scope(Protocol):
    def open(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any: ...

    def resume(self, state: Any) -> Any: ...

    def suspend(self, state: Any, token: Any) -> None: ...

    def close(self, state: Any, error: BaseException | None, result: Any = None) -> None:
        """`result`: the return value; for a generator the list of yielded items if `collect_items` is set."""


def _ending(error: BaseException) -> BaseException | None:
    """GeneratorExit is how a consumer stops a generator early: not a failure."""
    return None if isinstance(error, GeneratorExit) else error


def wrap(func: F, scope: Scope) -> F:
    if inspect.isasyncgenfunction(func):
        return _wrap_async_generator(func, scope)  # type: ignore[return-value]
    if inspect.isgeneratorfunction(func):
        return _wrap_generator(func, scope)  # type: ignore[return-value]
    if inspect.iscoroutinefunction(func):
        return _wrap_coroutine(func, scope)  # type: ignore[return-value]
    return _wrap_function(func, scope)  # type: ignore[return-value]


# A generator's result is the list of what it yielded, kept while it runs: bounded, so a long stream
# cannot grow memory (the captured content is truncated anyway).
MAX_COLLECTED_ITEMS = 1000


def _wrap_function(func: Callable[..., Any], scope: Scope) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        state = scope.open(func, args, kwargs)
        token = scope.resume(state)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            scope.suspend(state, token)
            scope.close(state, exc)
            raise
        scope.suspend(state, token)
        scope.close(state, None, result)
        return result

    return wrapper


def _wrap_coroutine(func: Callable[..., Any], scope: Scope) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        state = scope.open(func, args, kwargs)
        token = scope.resume(state)
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            scope.suspend(state, token)
            scope.close(state, exc)
            raise
        scope.suspend(state, token)
        scope.close(state, None, result)
        return result

    return wrapper


def _wrap_generator(func: Callable[..., Any], scope: Scope) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        state = scope.open(func, args, kwargs)
        collect = getattr(scope, "collect_items", False)
        items: list[Any] = []
        try:
            generator = func(*args, **kwargs)
            sent: Any = None
            thrown: BaseException | None = None
            while True:
                token = scope.resume(state)
                try:
                    if thrown is not None:
                        error, thrown = thrown, None
                        item = generator.throw(error)
                    else:
                        item = generator.send(sent)
                except StopIteration as stop:
                    scope.suspend(state, token)
                    scope.close(state, None, items if stop.value is None else stop.value)
                    return stop.value
                except BaseException:
                    scope.suspend(state, token)
                    raise
                scope.suspend(state, token)
                if collect and len(items) < MAX_COLLECTED_ITEMS:
                    items.append(item)
                try:
                    sent = yield item
                except GeneratorExit:
                    token = scope.resume(state)
                    try:
                        generator.close()
                    finally:
                        scope.suspend(state, token)
                    raise
                except BaseException as exc:
                    thrown = exc
        except BaseException as exc:
            scope.close(state, _ending(exc), items)
            raise

    return wrapper


def _wrap_async_generator(func: Callable[..., Any], scope: Scope) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        state = scope.open(func, args, kwargs)
        collect = getattr(scope, "collect_items", False)
        items: list[Any] = []
        try:
            generator = func(*args, **kwargs)
            sent: Any = None
            thrown: BaseException | None = None
            while True:
                token = scope.resume(state)
                try:
                    if thrown is not None:
                        error, thrown = thrown, None
                        item = await generator.athrow(error)
                    else:
                        item = await generator.asend(sent)
                except StopAsyncIteration:
                    scope.suspend(state, token)
                    scope.close(state, None, items)
                    return
                except BaseException:
                    scope.suspend(state, token)
                    raise
                scope.suspend(state, token)
                if collect and len(items) < MAX_COLLECTED_ITEMS:
                    items.append(item)
                try:
                    sent = yield item
                except GeneratorExit:
                    token = scope.resume(state)
                    try:
                        await generator.aclose()
                    finally:
                        scope.suspend(state, token)
                    raise
                except BaseException as exc:
                    thrown = exc
        except BaseException as exc:
            scope.close(state, _ending(exc), items)
            raise

    return wrapper
