"""The local store as the default backend: which provider gets the store's span processor, and when.

- Nothing configured (no tracer provider given, none set globally, no `OTEL_TRACES_EXPORTER` /
  `OTEL_EXPORTER_OTLP_*`): llmtap records into the store through a tracer provider of its own, which it
  does NOT install globally, so the application can still install its own later; when it does, llmtap's
  spans go to that provider and the store processor is added to it (`follow`).
- `LLMTAP_STORE` set explicitly: the store processor is added to whatever provider llmtap writes
  through (given, global, or built from `OTEL_*`), beside the exporters configured there.
- `LLMTAP_STORE=off`: no store.

The same function runs under `llmtap.instrument()` and under the `opentelemetry-instrument` launcher
(through `llmtap.runtime`), so the three ways in give one result. Nothing here imports sqlite3: the
exporter opens the store on its worker thread, on the first export.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from opentelemetry import trace

from llmtap.config import DEFAULT_STORE, Settings
from llmtap.safety import logger
from llmtap.store.paths import store_path

_OTLP_TRACE_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

_lock = threading.Lock()
_path: Path | None = None  # the store spans are recorded to, while wired
_following = False  # whether a global provider the application installs later gets the store processor
_fallback: FallbackTracer | None = None
_private: Any = None  # llmtap's own TracerProvider (nothing configured)
_logger_provider: Any = None  # llmtap's own LoggerProvider for annotation records (no other)
_announced: set[Path] = set()
_processors: weakref.WeakSet[Any] = weakref.WeakSet()  # every store span processor wired in this process


def traces_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the environment says where spans go (`OTEL_TRACES_EXPORTER` or an OTLP endpoint)."""
    env = os.environ if environ is None else environ
    return any(env.get(name, "").strip() for name in ("OTEL_TRACES_EXPORTER", *_OTLP_TRACE_VARIABLES))


def store_explicit(settings: Settings) -> bool:
    """Whether the store was asked for (`LLMTAP_STORE` or `store` in the config file), not just defaulted."""
    origin = getattr(settings, "origin", None)
    if callable(origin):
        return origin("store") != "default"
    return "LLMTAP_STORE" in os.environ or settings.store != DEFAULT_STORE


class FallbackTracer(trace.Tracer):
    """llmtap's tracer while the application has installed no global provider: spans go to llmtap's own
    store provider; from the moment a global provider is installed, to that one."""

    def __init__(self, private: trace.Tracer, name: str, version: str | None, schema_url: str | None) -> None:
        self._private = private
        self._real: trace.Tracer | None = None
        self._name, self._version, self._schema_url = name, version, schema_url

    def switch_to_global(self) -> None:
        self._real = trace.get_tracer(self._name, self._version, None, schema_url=self._schema_url)

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        return (self._real or self._private).start_span(*args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        return (self._real or self._private).start_as_current_span(*args, **kwargs)


def attach(provider: object, path: Path) -> bool:
    """Add a batch processor exporting into the store at `path` to an SDK tracer provider, once per provider."""
    add = getattr(provider, "add_span_processor", None)
    if add is None:
        return False
    if getattr(provider, "_llmtap_store_path", None) == path:
        return True
    from llmtap.store.exporter import StoreSpanProcessor

    processor = StoreSpanProcessor(path)
    add(processor)
    _processors.add(processor)
    try:
        provider._llmtap_store_path = path  # type: ignore[attr-defined]
    except AttributeError:
        return False
    return True


def _announce(path: Path) -> None:
    if path not in _announced:
        _announced.add(path)
        logger.info(
            "llmtap: recording traces to the local store %s; list them with `llmtap traces` "
            "(LLMTAP_STORE=off turns the store off)",
            path,
        )


def wire(
    settings: Settings,
    tracer_provider: object | None,
    *,
    nothing_configured: bool,
    name: str,
    version: str | None,
    schema_url: str | None,
) -> trace.Tracer | None:
    """Wire the store as `settings` and the pipeline ask. Returns the tracer llmtap must use instead of the
    global one (when llmtap records through a provider of its own), else None."""
    global _path, _following, _fallback, _private
    with _lock:
        path = store_path(settings)
        if path is None or not (nothing_configured or store_explicit(settings)):
            _path, _following, _fallback = None, False, None
            return None
        path = path.absolute()
        _path = path
        from llmtap.store import retention

        retention.start(path, settings.store_max_age_days, settings.store_max_size_mb)
        if tracer_provider is not None:
            _following = False
            attach(tracer_provider, path)
            return None
        _following = True
        current = trace.get_tracer_provider()
        if attach(current, path):  # a global SDK provider (the application's, or built from OTEL_*)
            _fallback = None
            return None
        if _private is None or getattr(_private, "_llmtap_store_path", None) != path:
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider

            _private = TracerProvider(resource=Resource.create())
            attach(_private, path)
            from llmtap.labels.processor import install as install_label_processor

            install_label_processor(_private)
        _fallback = FallbackTracer(_private.get_tracer(name, version, schema_url=schema_url), name, version, schema_url)
        _announce(path)
        return _fallback


def flush() -> None:
    """Store every span ended so far (the store processors wired in this process), e.g. before routing writes
    to a trace that has just ended."""
    for processor in list(_processors):
        processor.force_flush()


def follow(provider: object) -> None:
    """The application installed `provider` globally: llmtap writes through it now, the store included."""
    if isinstance(provider, trace.ProxyTracerProvider):  # still no global provider
        return
    with _lock:
        if not _following or _path is None:
            return
        attach(provider, _path)
        if _fallback is not None:
            _fallback.switch_to_global()


def logs_through(provider: Any) -> Any:
    """The logger provider annotation records go through, given the one llmtap chose: while spans are recorded
    into the store, an SDK provider gets the store's log processor, and in place of no provider (the API's
    proxy) llmtap uses one of its own that records into the store."""
    global _logger_provider
    path = _path
    if path is None:
        return provider
    add = getattr(provider, "add_log_record_processor", None)
    with _lock:
        if add is not None:
            if getattr(provider, "_llmtap_store_path", None) != path:
                add(_log_processor(path))
                provider._llmtap_store_path = path
            return provider
        if _logger_provider is None or getattr(_logger_provider, "_llmtap_store_path", None) != path:
            from opentelemetry.sdk._logs import LoggerProvider
            from opentelemetry.sdk.resources import Resource

            _logger_provider = LoggerProvider(resource=Resource.create())
            _logger_provider.add_log_record_processor(_log_processor(path))
            _logger_provider._llmtap_store_path = path
        return _logger_provider


def _log_processor(path: Path) -> Any:
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    from llmtap.store.log_exporter import StoreLogExporter

    return BatchLogRecordProcessor(StoreLogExporter(path))


def logger_provider() -> Any:
    """llmtap's own logger provider (recording annotations into the store), if it made one."""
    return _logger_provider


def private_provider() -> Any:
    """llmtap's own tracer provider (recording into the store), if it made one."""
    return _private


def reset() -> None:
    """Stop following global providers (`uninstrument()`); spans already recorded are flushed."""
    global _path, _following, _fallback
    with _lock:
        _path, _following, _fallback = None, False, None
        if _private is not None:
            _private.force_flush()
        if _logger_provider is not None:
            _logger_provider.force_flush()
