"""Telemetry pipeline set-up from the standard `OTEL_*` environment, for apps that configured none.

`plan()` reads where each signal should go (exporter, OTLP protocol and endpoint) without importing
anything; `setup_*` builds it. OTLP defaults to HTTP (`http/protobuf`, the OpenTelemetry specification's
default), gRPC when `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`. Every OTLP exporter llmtap creates gives up after
`EXPORT_TIMEOUT_S` unless `OTEL_EXPORTER_OTLP_[SIGNAL_]TIMEOUT` says otherwise, so an unreachable collector
delays the application's exit by a few seconds at most.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from opentelemetry import metrics, trace

from llmtap.errors import ConfigError

if TYPE_CHECKING:  # the SDK is imported only when llmtap sets a pipeline up (keeps `import llmtap` light)
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider

logger = logging.getLogger("llmtap")

EXPORT_TIMEOUT_S = 2.0
SIGNALS = ("traces", "metrics", "logs")
_KNOWN_EXPORTERS = ("otlp", "console", "none")
_PROTOCOLS = {"http/protobuf": "http", "grpc": "grpc"}
_OTLP_PATHS = {"traces": "v1/traces", "metrics": "v1/metrics", "logs": "v1/logs"}
_EXPORTER_MODULES = {"traces": "trace_exporter", "metrics": "metric_exporter", "logs": "_log_exporter"}
_EXPORTER_CLASSES = {"traces": "OTLPSpanExporter", "metrics": "OTLPMetricExporter", "logs": "OTLPLogExporter"}
_PACKAGES = {"http": "opentelemetry-exporter-otlp-proto-http", "grpc": "opentelemetry-exporter-otlp-proto-grpc"}


class Destination(NamedTuple):  # (a NamedTuple: defined at start-up, where a dataclass costs ~1 ms)
    """Where one signal goes: `console`, or `otlp` with its protocol, endpoint and export timeout."""

    signal: str
    exporter: str
    protocol: str = ""  # "http" | "grpc" for otlp
    endpoint: str = ""
    timeout_s: float | None = None  # None: the exporter reads OTEL_EXPORTER_OTLP_[SIGNAL_]TIMEOUT itself

    def describe(self) -> str:
        if self.exporter == "console":
            return "console (stdout)"
        transport = "OTLP/HTTP" if self.protocol == "http" else "OTLP/gRPC"
        return f"{transport} {self.endpoint}"


def _exporter_names(environ: Mapping[str, str], signal: str) -> list[str]:
    variable = f"OTEL_{signal.upper()}_EXPORTER"
    raw = environ.get(variable, "").strip()
    if raw:
        names = [name.strip().lower() for name in raw.split(",") if name.strip()]
        for name in names:
            if name not in _KNOWN_EXPORTERS:
                raise ConfigError(f"{variable}={raw!r}: unknown exporter {name!r}; expected otlp, console or none")
        return [name for name in names if name != "none"]
    endpoints = ("OTEL_EXPORTER_OTLP_ENDPOINT", f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    return ["otlp"] if any(environ.get(name, "").strip() for name in endpoints) else []


def _protocol(environ: Mapping[str, str], signal: str) -> str:
    for variable in (f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        raw = environ.get(variable, "").strip()
        if raw:
            if raw.lower() not in _PROTOCOLS:
                raise ConfigError(f"{variable}={raw!r}: unknown OTLP protocol; expected http/protobuf or grpc")
            return _PROTOCOLS[raw.lower()]
    return "http"


def _endpoint(environ: Mapping[str, str], signal: str, protocol: str) -> str:
    own = environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT", "").strip()
    if own:
        return own
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if protocol == "grpc":
        return base or "http://localhost:4317"
    return f"{(base or 'http://localhost:4318').rstrip('/')}/{_OTLP_PATHS[signal]}"


def _timeout(environ: Mapping[str, str], signal: str) -> float | None:
    variables = (f"OTEL_EXPORTER_OTLP_{signal.upper()}_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")
    return None if any(environ.get(name, "").strip() for name in variables) else EXPORT_TIMEOUT_S


def plan(environ: Mapping[str, str] | None = None, signal: str = "traces") -> list[Destination]:
    """Where `OTEL_*` sends `signal`; `ConfigError` for an unknown exporter or protocol, or a missing package."""
    env = os.environ if environ is None else environ
    destinations = []
    for name in _exporter_names(env, signal):
        if name == "console":
            destinations.append(Destination(signal, "console"))
            continue
        protocol = _protocol(env, signal)
        if importlib.util.find_spec(f"opentelemetry.exporter.otlp.proto.{protocol}") is None:
            asked = f"OTEL_{signal.upper()}_EXPORTER" if env.get(f"OTEL_{signal.upper()}_EXPORTER") else None
            asked = asked or "OTEL_EXPORTER_OTLP_ENDPOINT"
            extra = "llmtap[otlp]" if protocol == "http" else _PACKAGES[protocol]
            raise ConfigError(
                f"{asked}={env.get(asked, '')!r} asks for OTLP over {'gRPC' if protocol == 'grpc' else 'HTTP'} "
                f"but {_PACKAGES[protocol]} is not installed; expected `pip install {extra}`"
            )
        destinations.append(
            Destination(signal, "otlp", protocol, _endpoint(env, signal, protocol), _timeout(env, signal))
        )
    return destinations


def _exporter(destination: Destination) -> Any:
    if destination.exporter == "console":
        if destination.signal == "traces":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            return ConsoleSpanExporter()
        if destination.signal == "logs":
            from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter

            return ConsoleLogRecordExporter()
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

        return ConsoleMetricExporter()
    module = importlib.import_module(
        f"opentelemetry.exporter.otlp.proto.{destination.protocol}.{_EXPORTER_MODULES[destination.signal]}"
    )
    exporter_class = getattr(module, _EXPORTER_CLASSES[destination.signal])
    kwargs: dict[str, Any] = {}
    if destination.timeout_s is not None:
        kwargs["timeout"] = destination.timeout_s
    return exporter_class(**kwargs)


def global_tracer_provider_is_set() -> bool:
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def setup_tracer_provider(environ: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Create and install a global SDK TracerProvider exporting where `OTEL_*` says.

    With no exporter asked for, nothing is installed: the global provider stays the API's proxy, so a
    provider the application sets later receives llmtap's spans.
    """
    destinations = plan(environ, "traces")
    if not destinations:
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    exporters = [(destination, _exporter(destination)) for destination in destinations]
    provider = TracerProvider(resource=Resource.create())
    for destination, exporter in exporters:
        processor = SimpleSpanProcessor if destination.exporter == "console" else BatchSpanProcessor
        provider.add_span_processor(processor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def setup_meter_provider(environ: Mapping[str, str] | None = None) -> MeterProvider | None:
    """Install a global MeterProvider when `OTEL_*` asks for a metrics exporter and none is set."""
    destinations = plan(environ, "metrics")
    if not destinations:
        return None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource

    readers = [PeriodicExportingMetricReader(_exporter(destination)) for destination in destinations]
    provider = MeterProvider(resource=Resource.create(), metric_readers=readers)
    metrics.set_meter_provider(provider)
    return provider


def global_meter_provider_is_set() -> bool:
    from opentelemetry.metrics import _internal

    return not isinstance(metrics.get_meter_provider(), _internal._ProxyMeterProvider)


def where_telemetry_goes(traces: list[Destination], metrics_: list[Destination]) -> str:
    """The one line llmtap logs at INFO about where the pipeline it set up sends telemetry."""
    if not traces and not metrics_:
        return (
            "no exporter configured (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT) and no tracer provider "
            "set: spans and metrics go to the providers the application sets up later, else nowhere; to see "
            "them set OTEL_TRACES_EXPORTER=console, or OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 "
            "(pip install llmtap[otlp]); `llmtap doctor` shows the configuration"
        )
    parts = [f"spans to {', '.join(d.describe() for d in traces)}" if traces else "spans to the application's provider"]
    parts.append(f"metrics to {', '.join(d.describe() for d in metrics_)}" if metrics_ else "metrics not exported")
    line = "; ".join(parts)
    timeouts = {d.timeout_s for d in (*traces, *metrics_) if d.exporter == "otlp"}
    if EXPORT_TIMEOUT_S in timeouts:
        line += (
            f" (each OTLP export gives up after {EXPORT_TIMEOUT_S:g} s, so an unreachable collector delays the "
            "application's exit by a few seconds at most; OTEL_EXPORTER_OTLP_TIMEOUT changes it)"
        )
    return line


def build_logger_provider(environ: Mapping[str, str] | None = None) -> LoggerProvider | None:
    """A LoggerProvider exporting where `OTEL_LOGS_EXPORTER` / `OTEL_EXPORTER_OTLP_*` say, for llmtap's own
    log records (annotations); None when no logs exporter is asked for. Not installed as the global one."""
    destinations = plan(environ, "logs")
    if not destinations:
        return None
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.resources import Resource

    provider = LoggerProvider(resource=Resource.create())
    for destination in destinations:
        provider.add_log_record_processor(BatchLogRecordProcessor(_exporter(destination)))
    return provider
