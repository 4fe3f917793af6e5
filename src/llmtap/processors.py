"""Adding one of llmtap's span processors to an application's tracer provider, once per provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def add_once(tracer_provider: object, key: str, make: Callable[[], Any]) -> bool:
    """Add `make()` to an SDK tracer provider unless a processor under `key` was added before.

    False if the provider is not an SDK one (it has no `add_span_processor`) or cannot remember the key.
    """
    add = getattr(tracer_provider, "add_span_processor", None)
    if add is None:
        return False
    if getattr(tracer_provider, key, None) is not None:
        return True
    processor = make()
    add(processor)
    try:
        setattr(tracer_provider, key, processor)
    except AttributeError:
        return False
    return True
