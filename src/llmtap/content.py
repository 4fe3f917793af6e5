"""Serialising captured content to span attributes, with per-value truncation."""

from __future__ import annotations

import json
from typing import Any

TRUNCATED_PREFIX = "llmtap.truncated."
# Keys of the message shape that name or link things rather than carry content: never cut.
_STRUCTURAL_KEYS = frozenset({"type", "role", "id", "name", "finish_reason", "modality", "mime_type", "file_id"})


def _truncate(value: Any, limit: int, cut: list[int]) -> Any:
    if isinstance(value, str):
        if len(value) > limit:
            cut[0] += len(value) - limit
            return value[:limit]
        return value
    if isinstance(value, dict):
        return {key: item if key in _STRUCTURAL_KEYS else _truncate(item, limit, cut) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_truncate(item, limit, cut) for item in value]
    return value


def _default(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_unset=True)
    return str(value)


# One encoder for every call: `json.dumps` with options builds a new JSONEncoder each time.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default)


def dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def text_attribute(name: str, text: str, limit: int, out: dict[str, Any]) -> None:
    """Write a content string under `name`, cut to `limit` characters with the cut counted."""
    if limit and len(text) > limit:
        out[TRUNCATED_PREFIX + name] = len(text) - limit
        text = text[:limit]
    out[name] = text


def content_attributes(name: str, value: Any, limit: int, out: dict[str, Any]) -> None:
    """Write `value` as JSON under `name`; each string in it is cut to `limit` characters.

    The JSON stays valid; the number of characters cut is written to `llmtap.truncated.<name>`.
    """
    text = dumps(value)
    if limit and len(text) > limit:
        cut = [0]
        truncated = _truncate(value, limit, cut)
        if cut[0]:
            text = dumps(truncated)
            out[TRUNCATED_PREFIX + name] = cut[0]
    out[name] = text
