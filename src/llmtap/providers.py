"""Telemetry pipeline set-up from the standard `OTEL_*` environment, for apps that configured none."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import metrics, trace

from llmtap.errors import ConfigError

if TYPE_CHECKING:  # the SDK is imported only when llmtap sets a pipeline up (keeps `import llmtap` light)
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

_OTLP_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT",)
_KNOWN_EXPORTERS = ("otlp", "console", "none")


def _exporter_names(environ: Mapping[str, str], signal: str) -> list[str]:
    variable = f"OTEL_{signal.upper()}_EXPORTER"
    raw = environ.get(variable, "").strip()
    if raw:
        names = [name.strip().lower() for name in raw.split(",") if name.strip()]
        for name in names:
            if name not in _KNOWN_EXPORTERS:
                raise ConfigError(f"{variable}={raw!r}: unknown exporter {name!r}; expected otlp, console or none")
        return [name for name in names if name != "none"]
    endpoints = (*_OTLP_ENDPOINTS, f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    return ["otlp"] if any(environ.get(name, "").strip() for name in endpoints) else []


_OTLP_CLASSES = {"trace": "OTLPSpanExporter", "metric": "OTLPMetricExporter", "_log": "OTLPLogExporter"}


def _otlp_exporter(signal: str) -> type:
    """The OTLP/HTTP exporter class for `signal` ("trace", "metric" or "_log"), which `llmtap[otlp]` installs."""
    try:
        module = importlib.import_module(f"opentelemetry.exporter.otlp.proto.http.{signal}_exporter")
    except ImportError:
        raise ConfigError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but the OTLP exporter is not installed; "
            "expected `pip install llmtap[otlp]`"
        ) from None
    return getattr(module, _OTLP_CLASSES[signal])


def global_tracer_provider_is_set() -> bool:
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def setup_tracer_provider(environ: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Create and install a global SDK TracerProvider exporting where `OTEL_*` says.

    With no exporter asked for, nothing is installed: the global provider stays the API's proxy, so a
    provider the application sets later receives llmtap's spans.
    """
    env = os.environ if environ is None else environ
    names = _exporter_names(env, "traces")
    if not names:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create())
    for name in names:
        if name == "console":
            provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        else:
            provider.add_span_processor(BatchSpanProcessor(_otlp_exporter("trace")()))
    trace.set_tracer_provider(provider)
    return provider


def setup_meter_provider(environ: Mapping[str, str] | None = None) -> MeterProvider | None:
    """Install a global MeterProvider when `OTEL_*` asks for a metrics exporter and none is set."""
    env = os.environ if environ is None else environ
    names = _exporter_names(env, "metrics")
    if not names:
        return None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource

    readers = []
    for name in names:
        if name == "console":
            readers.append(PeriodicExportingMetricReader(ConsoleMetricExporter()))
        else:
            readers.append(PeriodicExportingMetricReader(_otlp_exporter("metric")()))
    provider = MeterProvider(resource=Resource.create(), metric_readers=readers)
    metrics.set_meter_provider(provider)
    return provider


def global_meter_provider_is_set() -> bool:
    from opentelemetry.metrics import _internal

    return not isinstance(metrics.get_meter_provider(), _internal._ProxyMeterProvider)


def build_logger_provider(environ: Mapping[str, str] | None = None) -> LoggerProvider | None:
    """A LoggerProvider exporting where `OTEL_LOGS_EXPORTER` / `OTEL_EXPORTER_OTLP_*` say, for llmtap's own
    log records (annotations); None when no logs exporter is asked for. Not installed as the global one."""
    env = os.environ if environ is None else environ
    names = _exporter_names(env, "logs")
    if not names:
        return None
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, ConsoleLogRecordExporter
    from opentelemetry.sdk.resources import Resource

    provider = LoggerProvider(resource=Resource.create())
    for name in names:
        exporter = ConsoleLogRecordExporter() if name == "console" else _otlp_exporter("_log")()
        provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
    return provider
