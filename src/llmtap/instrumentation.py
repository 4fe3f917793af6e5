"""`llmtap.instrument()` / `llmtap.uninstrument()`: plugin discovery and the one-line set-up."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import distributions
from typing import TYPE_CHECKING, Any

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from llmtap import runtime
from llmtap.config import did_you_mean, load_settings
from llmtap.errors import ConfigError, LabelError, LlmtapError
from llmtap.labels.policy import LabelPolicy
from llmtap.problems import check_settings, report_once, turned_off
from llmtap.safety import report_internal_error

if TYPE_CHECKING:  # the plugin base class comes with the plugins
    from llmtap.plugin import LlmtapInstrumentor

ENTRY_POINT_GROUP = "llmtap.instrumentors"

_lock = threading.Lock()
_instrumented: dict[str, LlmtapInstrumentor] = {}
# The keywords code passed to `instrument()` (those not None), kept for later calls: a setting given in
# code stays until code changes it (a library calling a bare `instrument()` again changes nothing).
_given: dict[str, Any] = {}


def available_plugins() -> dict[str, Any]:
    """Installed plugins by name (entry points of the `llmtap.instrumentors` group), not yet loaded.

    As `importlib.metadata.entry_points(group=...)` finds them (the first distribution on the path wins), but
    only the distributions whose entry point file names the group are parsed: parsing every installed
    distribution's entry points costs more than the rest of plugin discovery."""
    found: dict[str, Any] = {}
    for dist in distributions():
        text = dist.read_text("entry_points.txt")
        if not text or ENTRY_POINT_GROUP not in text:
            continue
        for entry in dist.entry_points.select(group=ENTRY_POINT_GROUP):
            found.setdefault(entry.name, entry)
    return found


def load_plugin(entry: Any) -> type[LlmtapInstrumentor]:
    """The plugin class an entry point names. An entry naming a plugin's launcher face (`...Instrumentor`, as the
    metadata of an install from before the split does) gives the plugin class it delegates to."""
    loaded = entry.load()
    return getattr(loaded, "plugin", loaded)


def _check_providers(providers: Iterable[str] | None, available: Mapping[str, Any]) -> set[str] | None:
    if providers is None:
        return None
    if isinstance(providers, str) or not isinstance(providers, Iterable):
        raise ConfigError(f"providers={providers!r}: expected a list of provider names, e.g. ['openai']")
    names = set(providers)
    unknown = sorted(name for name in names if name not in available)
    if unknown:
        hint = did_you_mean(unknown[0], available) if len(unknown) == 1 else ""
        raise ConfigError(
            f"providers={sorted(names)!r}: {', '.join(map(repr, unknown))} is not an installed llmtap plugin"
            f"{hint}; installed: {', '.join(sorted(available)) or 'none'}"
        )
    return names


def _check_provider_arguments(tracer_provider: Any, meter_provider: Any, logger_provider: Any = None) -> None:
    if tracer_provider is not None and not isinstance(tracer_provider, TracerProvider):
        raise ConfigError(
            f"tracer_provider={tracer_provider!r}: expected an opentelemetry TracerProvider or None "
            "(exporters are chosen with OTEL_TRACES_EXPORTER, e.g. OTEL_TRACES_EXPORTER=console)"
        )
    if meter_provider is not None and not isinstance(meter_provider, MeterProvider):
        raise ConfigError(
            f"meter_provider={meter_provider!r}: expected an opentelemetry MeterProvider or None "
            "(exporters are chosen with OTEL_METRICS_EXPORTER)"
        )
    if logger_provider is not None and not callable(getattr(logger_provider, "get_logger", None)):
        raise ConfigError(
            f"logger_provider={logger_provider!r}: expected an opentelemetry LoggerProvider or None "
            "(exporters are chosen with OTEL_LOGS_EXPORTER)"
        )


def _warn_missing_libraries(wanted: set[str] | None, available: Mapping[str, Any]) -> None:
    """`providers=[...]` naming a plugin whose library is not installed: nothing to instrument, say so."""
    for name in sorted(wanted or ()):
        try:
            plugin_class = load_plugin(available[name])
            missing = not plugin_class.library_available()
        except Exception:
            continue  # a broken plugin is reported when it is loaded below
        if missing:
            report_once(
                logging.WARNING,
                f"providers=[{name!r}]: the {plugin_class.library} library is not installed, "
                f"so there is nothing to instrument for {name}",
            )


def instrument(
    *,
    providers: Iterable[str] | None = None,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    logger_provider: Any = None,
    capture_content: bool | None = None,
    config: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    redact: Callable[[str], str] | None = None,
) -> None:
    """Instrument every installed llmtap plugin whose library is importable (or those named).

    Idempotent: calling it again never patches twice. Every keyword given (not None) is remembered
    until `uninstrument()`: a later call without it keeps it, a later call with it replaces it.

    `redact`: a callable applied to every string of captured content after llmtap's own redaction
    (`llmtap.redaction`); it returns the text to export.
    """
    _check_provider_arguments(tracer_provider, meter_provider, logger_provider)
    if providers is not None and not isinstance(providers, str) and isinstance(providers, Iterable):
        providers = tuple(providers)  # kept for later calls: an iterator would be used up
    passed = {
        "providers": providers,
        "tracer_provider": tracer_provider,
        "meter_provider": meter_provider,
        "logger_provider": logger_provider,
        "capture_content": capture_content,
        "config": config,
        "redact": redact,
    }
    with _lock:
        given = {**_given, **{key: value for key, value in passed.items() if value is not None}}
    settings = load_settings(
        config=given.get("config"), capture_content=given.get("capture_content"), redact=given.get("redact")
    )
    available = available_plugins()
    wanted = _check_providers(given.get("providers"), available)
    with _lock:
        _given.clear()
        _given.update(given)
    check_settings(settings)
    _warn_missing_libraries(wanted, available)
    if not settings.enabled or "*" in settings.disabled_instrumentations:  # `*`: every instrumentation off
        return
    tracer_provider = given.get("tracer_provider")
    meter_provider = given.get("meter_provider")
    logger_provider = given.get("logger_provider")
    with _lock:
        try:
            labels = LabelPolicy.from_settings(settings)
            runtime.check_tables(settings)
            runtime.check_routes(settings)
        except LlmtapError as exc:
            # Label and annotation schemas, prices and routes (and process labels in strict mode) given in code raise
            # at the call; from the environment or a file they are logged and llmtap stays off.
            from_code = settings.from_code and (isinstance(exc, ConfigError) or "LLMTAP_TAGS" not in os.environ)
            if from_code and isinstance(exc, ConfigError | LabelError):
                raise
            turned_off(exc)
            return
        try:
            runtime.configure(
                settings,
                tracer_provider=tracer_provider,
                meter_provider=meter_provider,
                logger_provider=logger_provider,
                labels=labels,
            )
        except LlmtapError as exc:  # the exporter settings (`OTEL_*` environment)
            turned_off(exc)
            return
        for name in sorted(_instrumented):  # `providers=[...]` given anew: the plugins no longer named are undone
            if wanted is not None and name not in wanted:
                try:
                    _instrumented.pop(name).uninstrument()
                except Exception as exc:
                    report_internal_error(f"uninstrumenting the llmtap plugin {name!r}", exc)
        for name, entry in sorted(available.items()):
            if wanted is not None and name not in wanted:
                continue
            if name in settings.disabled_instrumentations or name in _instrumented:
                continue
            try:
                plugin_class = load_plugin(entry)
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
                plugin_class = load_plugin(entry)
            except Exception:
                continue
            plugin = plugin_class()
            if plugin.is_instrumented_by_opentelemetry:
                plugin.uninstrument()
        _instrumented.clear()
        _given.clear()
        runtime.reset()
