"""Request attributes as the semantic conventions type them, cast in one place (the emitter).

An application writes `temperature=1`; the conventions type `gen_ai.request.temperature` as a double,
so backends that index by type see one type per attribute. A value that cannot be cast (a string for a
number, a bool for a number) is left out rather than exported with the wrong type.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

_MISSING = object()


def _double(value: Any) -> Any:
    if isinstance(value, bool):
        return _MISSING
    if isinstance(value, float):
        return value
    if isinstance(value, int):
        return float(value)
    return _MISSING


def _int(value: Any) -> Any:
    if isinstance(value, bool):
        return _MISSING
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return _MISSING


def _strings(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item if isinstance(item, str) else str(item) for item in value]
    return _MISSING


def _bool(value: Any) -> Any:
    return value if isinstance(value, bool) else _MISSING


def _string(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, list | tuple | dict):
        return _MISSING
    return str(value)


# Attribute -> cast, from the semantic conventions' attribute registry (double / int / string[] / ...).
CASTS: dict[str, Callable[[Any], Any]] = {
    gen_ai.GEN_AI_REQUEST_TEMPERATURE: _double,
    gen_ai.GEN_AI_REQUEST_TOP_P: _double,
    gen_ai.GEN_AI_REQUEST_TOP_K: _double,
    gen_ai.GEN_AI_REQUEST_FREQUENCY_PENALTY: _double,
    gen_ai.GEN_AI_REQUEST_PRESENCE_PENALTY: _double,
    gen_ai.GEN_AI_REQUEST_MAX_TOKENS: _int,
    gen_ai.GEN_AI_REQUEST_SEED: _int,
    gen_ai.GEN_AI_REQUEST_CHOICE_COUNT: _int,
    gen_ai.GEN_AI_REQUEST_STOP_SEQUENCES: _strings,
    gen_ai.GEN_AI_REQUEST_ENCODING_FORMATS: _strings,
    gen_ai.GEN_AI_REQUEST_STREAM: _bool,
    gen_ai.GEN_AI_REQUEST_MODEL: _string,
    gen_ai.GEN_AI_OUTPUT_TYPE: _string,
    gen_ai.GEN_AI_CONVERSATION_ID: _string,
}


def typed(attributes: Mapping[str, Any], into: dict[str, Any]) -> None:
    """Copy `attributes` into `into`, each known one cast to its semconv type (left out if it cannot be)."""
    for name, value in attributes.items():
        cast = CASTS.get(name)
        if cast is None:
            into[name] = value
            continue
        value = cast(value)
        if value is not _MISSING:
            into[name] = value
