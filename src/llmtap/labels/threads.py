"""Labels (and the OTel context) in thread pools.

asyncio tasks copy the context when they are created, so they inherit labels by themselves. Threads
do not: wrap the callable when you hand it over, or use `ContextThreadPoolExecutor`::

    with llmtap.tags(user_id="u1"):
        pool.submit(llmtap.labels.in_current_context(work), item)   # any executor
        # or: ContextThreadPoolExecutor().submit(work, item)
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

R = TypeVar("R")


def in_current_context(func: Callable[..., R]) -> Callable[..., R]:
    """`func`, to run in a copy of the context current now (labels, active span, baggage).

    Each call runs in its own copy, so the result may be called from several threads at once.
    """
    captured = contextvars.copy_context()

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> R:
        return captured.copy().run(func, *args, **kwargs)

    return run


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A `ThreadPoolExecutor` whose tasks run in the context of the code that submitted them."""

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)
