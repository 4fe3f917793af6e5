"""The one writer of captured content: JSON span attributes, redacted and bounded.

Every content attribute (messages, system instructions, tool definitions, tool arguments and results,
function arguments, retrieval documents and queries) is written here, so every layer gets the same rules:

- redaction (`llmtap.redaction`): known credentials, key patterns, credential-named keys, the app's rules;
- each string is cut to `LLMTAP_MAX_CONTENT_CHARS` characters, and the whole attribute to
  `LLMTAP_MAX_ATTRIBUTE_CHARS` (items past the budget are left out; messages keep their shape);
- nesting deeper than `MAX_DEPTH` is left out (an empty container stays), cycles too;
- the JSON stays valid; the characters left out are counted in `llmtap.truncated.<attribute>`
  (characters of strings, keys and numbers, not JSON punctuation).

Nothing here recurses on the application's data: the walk is iterative. The common case costs one C
`json.dumps` and a cheap check of its text; the walk runs only when something may need to change.
"""

from __future__ import annotations

import json
import math
import sys
from itertools import repeat
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from llmtap import redaction
from llmtap.config import DEFAULT_MAX_ATTRIBUTE_CHARS
from llmtap.redaction import REDACTED

TRUNCATED_PREFIX = "llmtap.truncated."
MAX_DEPTH = 64
# Keys of the message shape that name or link things rather than carry content: never redacted, and cut
# only past `_MAX_STRUCTURAL_CHARS` (a hostile id must not escape the attribute bound).
_STRUCTURAL_KEYS = frozenset({"type", "role", "id", "name", "finish_reason", "modality", "mime_type", "file_id"})
_MAX_STRUCTURAL_CHARS = 1024
# The json module recurses in C, guarded by the interpreter's recursion limit; with a limit raised past
# this, the C stack is no longer safe and only the iterative walk serialises.
_SAFE_RECURSION_LIMIT = 20000

_max_attribute_chars = DEFAULT_MAX_ATTRIBUTE_CHARS


def configure(max_attribute_chars: int) -> None:
    """The bound of each content attribute in characters (0: none), from the settings in force."""
    global _max_attribute_chars
    _max_attribute_chars = max_attribute_chars


def _default(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_unset=True)
    return str(value)


# One encoder for every call: `json.dumps` with options builds a new JSONEncoder each time.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_default)


def dumps(value: Any) -> str:
    return _ENCODER.encode(value)


_SCALARS = (str, int, float, bool, type(None))
_JSON_TYPES = (*_SCALARS, dict, list, tuple)


def _plain(value: Any) -> Any:
    """`value` as something JSON has a form for (objects: their pydantic dump, else their text)."""
    if isinstance(value, _JSON_TYPES):
        return value
    try:
        return _default(value)
    except Exception:  # a hostile or broken object (e.g. nested too deep for its own serialiser)
        return f"<{type(value).__name__}>"


def _scalar_text(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    return int.__repr__(value)


def _encoded(text: str) -> int:
    return len(encode_basestring(text))


def content_chars(value: Any) -> int:
    """Characters of content in `value` (strings, keys, numbers; not JSON punctuation), iteratively."""
    total = 0
    stack = [value]
    seen: set[int] = set()
    while stack:
        item = _plain(stack.pop())
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            if id(item) in seen:
                continue
            seen.add(id(item))
            for key, child in item.items():
                total += len(str(key))
                stack.append(child)
        elif isinstance(item, list | tuple):
            if id(item) in seen:
                continue
            seen.add(id(item))
            stack.extend(item)
        else:
            total += len(_scalar_text(item))
    return total


def _fit(text: str, room: int) -> str:
    """The longest prefix of `text` whose JSON form takes at most `room` characters."""
    size = min(len(text), room - 2)
    while size > 0:
        encoded = _encoded(text[:size])
        if encoded <= room:
            return text[:size]
        size -= encoded - room
    return ""


class _Frame:
    __slots__ = ("count", "depth", "items", "sink", "source")

    def __init__(self, items: Any, sink: Any, depth: int, source: Any) -> None:
        self.items = items
        self.sink = sink
        self.depth = depth
        self.source = source
        self.count = 0


def _prepaid(value: dict[Any, Any]) -> int:
    """What a dict's structural entries take in JSON (one comma each, at most): paid when it is opened."""
    cost = 0
    for key in _STRUCTURAL_KEYS.intersection(value):
        item = value[key]
        if isinstance(item, str):
            cost += len(key) + 4 + _encoded(item[:_MAX_STRUCTURAL_CHARS])
        elif isinstance(item, _SCALARS):
            cost += len(key) + 4 + len(_scalar_text(item))
    return cost


def bounded(
    value: Any, limit: int, total: int, redactor: redaction.Redactor | None = None, names: bool = True
) -> tuple[Any, int]:
    """A copy of `value` made of plain JSON types, redacted, each string cut to `limit` characters, at
    most `total` characters of JSON in all (0: no bound), nested at most `MAX_DEPTH` deep.

    Returns the copy and the number of characters left out. Iterative: safe on any input.
    """
    red = redactor if redactor is not None else redaction.active()
    by_name = names and red.names
    cut = 0
    used = 0
    root: list[Any] = []
    stack = [_Frame(iter([(None, value)]), root, 0, None)]
    path: set[int] = set()
    while stack:
        frame = stack[-1]
        entry = next(frame.items, None)
        if entry is None:
            stack.pop()
            path.discard(id(frame.source))
            continue
        key, child = entry
        in_dict = isinstance(frame.sink, dict)
        structural = in_dict and key in _STRUCTURAL_KEYS
        key_cost = 0
        if in_dict:
            if not isinstance(key, str):
                key = _scalar_text(key) if isinstance(key, _SCALARS) else str(key)
            elif not structural:
                key = red.key(key)
            key_cost = _encoded(key) + 1
        separator = 1 if frame.count else 0
        child = _plain(child)
        if in_dict and by_name and not structural and redaction.credential_name(key):
            if child is not None and child != "":
                child = REDACTED
        if isinstance(child, str):
            if structural:
                if len(child) > _MAX_STRUCTURAL_CHARS:
                    cut += len(child) - _MAX_STRUCTURAL_CHARS
                    child = child[:_MAX_STRUCTURAL_CHARS]
                _put(frame, key, child)
                continue
            if not (key == "content" and in_dict and frame.source.get("type") == "blob"):
                child = red.text(child)
            if limit and len(child) > limit:
                cut += len(child) - limit
                child = child[:limit]
            cost = separator + key_cost + _encoded(child)
            if total and used + cost > total:
                room = total - used - separator - key_cost
                if room < 2:
                    cut += len(child) + (len(key) if in_dict else 0)
                    continue
                kept = _fit(child, room)
                cut += len(child) - len(kept)
                child = kept
                cost = separator + key_cost + _encoded(child)
            used += cost
            _put(frame, key, child)
        elif isinstance(child, dict | list | tuple):
            is_dict = isinstance(child, dict)
            cost = separator + key_cost + 2 + (_prepaid(child) if is_dict else 0)
            if total and used + cost > total:
                cut += content_chars(child) + (len(key) if in_dict else 0)
                continue
            used += cost
            sink: Any = {} if is_dict else []
            _put(frame, key, sink)
            if frame.depth >= MAX_DEPTH or id(child) in path:
                cut += content_chars(child)
                continue
            path.add(id(child))
            items = iter(child.items()) if is_dict else zip(repeat(None), child)
            stack.append(_Frame(items, sink, frame.depth + 1, child))
        else:
            text = _scalar_text(child)
            if not structural:
                cost = separator + key_cost + len(text)
                if total and used + cost > total:
                    cut += len(text) + (len(key) if in_dict else 0)
                    continue
                used += cost
            _put(frame, key, child)
    return (root[0] if root else None), cut


def _put(frame: _Frame, key: Any, value: Any) -> None:
    frame.count += 1
    if isinstance(frame.sink, dict):
        frame.sink[key] = value
    else:
        frame.sink.append(value)


_CONTAINERS = (dict, list, tuple)


def _within_bounds(value: Any, limit: int) -> bool:
    """Whether no container in `value` is nested deeper than `MAX_DEPTH`, no string in it is longer than
    `limit` (0: any length) and all of it is plain JSON types. Iterative; stops at the first one found."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, str):
                if limit and len(child) > limit:
                    return False
            elif isinstance(child, _CONTAINERS):
                stack.append((child, depth + 1))
            elif not isinstance(child, _SCALARS):  # an object: its dump is not inspected here
                return False
    return True


def _fast(value: Any, limit: int, total: int, redactor: redaction.Redactor) -> str | None:
    """The JSON text when nothing needs redacting or cutting (the common case); None otherwise."""
    if redactor.always_walk or sys.getrecursionlimit() > _SAFE_RECURSION_LIMIT:
        return None
    if isinstance(value, _CONTAINERS):
        if not _within_bounds(value, limit):
            return None
    elif isinstance(value, str) and limit and len(value) > limit:
        return None
    try:
        text = dumps(value)
    except (RecursionError, ValueError, TypeError):  # nested too deep, circular, unserialisable keys
        return None
    if (total and len(text) > total) or (limit and len(text) > limit and not isinstance(value, _JSON_TYPES)):
        return None
    if redactor.may_match(text):
        return None
    return text


def content_attributes(name: str, value: Any, limit: int, out: dict[str, Any], *, names: bool = True) -> None:
    """Write `value` as JSON under `name`: redacted, each string cut to `limit` characters, the whole
    bounded by `LLMTAP_MAX_ATTRIBUTE_CHARS`; what was left out is counted in `llmtap.truncated.<name>`.

    `names=False` keeps values under credential-named keys (tool definitions: a schema, not data).
    """
    redactor = redaction.active()
    total = _max_attribute_chars
    text = _fast(value, limit, total, redactor)
    if text is None:
        plain, cut = bounded(value, limit, total, redactor, names)
        text = dumps(plain)
        if cut:
            out[TRUNCATED_PREFIX + name] = cut
    out[name] = text


def json_text(value: Any) -> str:
    """The application's `value` as one JSON text to embed in content (redacted, nested at most
    `MAX_DEPTH` deep; iterative). Strings and lengths are bounded where the text is written."""
    return value if isinstance(value, str) else dumps(bounded(value, 0, 0)[0])


def text_attribute(name: str, text: str, limit: int, out: dict[str, Any]) -> None:
    """Write a content string under `name`: redacted, cut to `limit` characters with the cut counted."""
    text = redaction.active().text(text)
    if limit and len(text) > limit:
        out[TRUNCATED_PREFIX + name] = len(text) - limit
        text = text[:limit]
    out[name] = text
