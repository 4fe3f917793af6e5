"""Response converters: an SDK's response object -> the output side of an `LLMCall`, as its plugin records it.

Each provider plugin registers, when its package is imported, the converter it uses itself for the
responses of its SDK (`register("openai", "openai.types.chat", "ChatCompletion", chat.record_response)`),
so the manual API (`LLMSpan.set_response(sdk_object)`) gives exactly the span a plugin gives, with no
second conversion in the core. Types are named, not imported: an SDK is never imported here; a name is
resolved once its package has been imported by the application (an object of it exists by then).
A subclass (e.g. `ParsedChatCompletion`) uses its base's converter.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, NamedTuple

from llmtap.record import LLMCall
from llmtap.safety import report_internal_error

# The plugins' entry point group (see `llmtap.instrumentation`); their packages register converters on import.
PLUGIN_GROUP = "llmtap.instrumentors"


class Converter(NamedTuple):
    provider: str  # `gen_ai.provider.name` of the calls that return this type
    record: Callable[[LLMCall, Any], None]  # fills response id, model, usage, finish reasons, output messages


_lock = threading.Lock()
_pending: dict[tuple[str, str], Converter] = {}  # (module, class name) -> converter, not resolved yet
_by_type: dict[type, Converter] = {}
_plugins_loaded = False


def register(provider: str, module: str, name: str, record: Callable[[LLMCall, Any], None]) -> None:
    """Record responses of the class `module.name` (and its subclasses) with `record(call, response)`."""
    with _lock:
        _pending[(module, name)] = Converter(provider, record)


def _load_plugins() -> None:
    """Import every installed plugin package once (not instrumenting it), so its converters are registered
    also when the application uses the manual API without `llmtap.instrument()`."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry in entry_points(group=PLUGIN_GROUP):
        try:
            entry.load()
        except Exception as exc:
            report_internal_error(f"loading the llmtap plugin {entry.name!r}", exc)


def _resolve() -> None:
    """Turn the registered names whose SDK is imported into types."""
    with _lock:
        ready = [key for key in _pending if key[0].partition(".")[0] in sys.modules]
        for key in ready:
            converter = _pending.pop(key)
            module, name = key
            try:
                cls = getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError):
                continue  # a version of the SDK without this type
            if isinstance(cls, type):
                _by_type[cls] = converter


def converter_for(response: Any) -> Converter | None:
    """The converter registered for the type of `response` or the nearest of its bases; None if none is."""
    _load_plugins()
    if _pending:
        _resolve()
    for cls in type(response).__mro__:
        converter = _by_type.get(cls)
        if converter is not None:
            return converter
    return None
