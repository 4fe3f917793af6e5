"""`llmtap.instrument()` / `llmtap.uninstrument()`: plugin discovery and the one-line set-up."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from llmtap import runtime
from llmtap.config import load_settings
from llmtap.errors import ConfigError
from llmtap.safety import report_internal_error

if TYPE_CHECKING:  # the plugin base class (and the OTel instrumentation package) come with the plugins
    from llmtap.plugin import LlmtapInstrumentor

ENTRY_POINT_GROUP = "llmtap.instrumentors"

_lock = threading.Lock()
_instrumented: dict[str, LlmtapInstrumentor] = {}


def available_plugins() -> dict[str, Any]:
    """Installed plugins by name (entry points of the `llmtap.instrumentors` group), not yet loaded."""
    return {entry.name: entry for entry in entry_points(group=ENTRY_POINT_GROUP)}


def _check_providers(providers: Iterable[str] | None, available: Mapping[str, Any]) -> set[str] | None:
    if providers is None:
        return None
    if isinstance(providers, str):
        raise ConfigError(f"providers={providers!r}: expected a list of provider names, e.g. [{providers!r}]")
    names = set(providers)
    unknown = sorted(name for name in names if name not in available)
    if unknown:
        raise ConfigError(
            f"providers={sorted(names)!r}: {', '.join(map(repr, unknown))} is not an installed llmtap plugin; "
            f"installed: {', '.join(sorted(available)) or 'none'}"
        )
    return names


def instrument(
    *,
    providers: Iterable[str] | None = None,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    logger_provider: Any = None,
    capture_content: bool | None = None,
    config: Mapping[str, Any] | str | os.PathLike[str] | None = None,
) -> None:
    """Instrument every installed llmtap plugin whose library is importable (or those named).

    Idempotent: calling it again applies new settings but never patches twice.
    """
    settings = load_settings(config=config, capture_content=capture_content)
    available = available_plugins()
    wanted = _check_providers(providers, available)
    if not settings.enabled or "*" in settings.disabled_instrumentations:  # `*`: every instrumentation off
        return
    with _lock:
        runtime.configure(
            settings,
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            logger_provider=logger_provider,
        )
        for name, entry in sorted(available.items()):
            if wanted is not None and name not in wanted:
                continue
            if name in settings.disabled_instrumentations or name in _instrumented:
                continue
            try:
                plugin_class = entry.load()
                if not plugin_class.library_available():
                    continue
                plugin = plugin_class()
                if not plugin.is_instrumented_by_opentelemetry:
                    plugin.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
            except Exception as exc:  # one broken plugin must not stop the others, nor the app
                report_internal_error(f"loading the llmtap plugin {name!r}", exc)
                continue
            _instrumented[name] = plugin


def uninstrument() -> None:
    """Remove every patch `instrument()` (or the launcher) installed, restoring the originals."""
    with _lock:
        for entry in available_plugins().values():
            try:
                plugin_class = entry.load()
            except Exception:
                continue
            plugin = plugin_class()
            if plugin.is_instrumented_by_opentelemetry:
                plugin.uninstrument()
        _instrumented.clear()
        runtime.reset()
