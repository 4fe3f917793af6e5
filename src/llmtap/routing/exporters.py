"""Named exporters for routing rules: `[tool.llmtap.exporters.<name>]`, each receiving whole traces.

    [tool.llmtap.exporters.vendor]
    type = "otlp"                 # otlp | console | file
    endpoint = "https://collector.example.com/v1/traces"
    protocol = "http/protobuf"    # or "grpc" (needs opentelemetry-exporter-otlp-proto-grpc)
    headers = { "x-api-key" = "..." }
    timeout = 10                  # seconds

    [tool.llmtap.exporters.archive]
    type = "file"
    path = "selected-traces.jsonl" # one span (OTLP JSON shape of the SDK's `to_json`) per line
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from llmtap.errors import ConfigError

TYPES = ("otlp", "console", "file")
PROTOCOLS = ("http/protobuf", "grpc")
_FIELDS = {
    "otlp": {"type", "endpoint", "protocol", "headers", "timeout"},
    "console": {"type"},
    "file": {"type", "path"},
}


@dataclass(frozen=True)
class ExporterSpec:
    name: str
    type: str
    endpoint: str | None = None
    protocol: str = "http/protobuf"
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    path: str | None = None


def parse_exporters(table: Any, source: str = "config") -> dict[str, ExporterSpec]:
    if not table:
        return {}
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: exporters={table!r}: expected a table of [exporters.<name>] tables")
    specs = {}
    for name, entry in table.items():
        where = f"{source}: exporters.{name}"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}={entry!r}: expected a table with type and its settings")
        kind = entry.get("type")
        if kind not in TYPES:
            raise ConfigError(f"{where}.type={kind!r}: expected one of {', '.join(TYPES)}")
        unknown = sorted(set(entry) - _FIELDS[kind])
        if unknown:
            raise ConfigError(
                f"{where}: unknown field {unknown[0]!r} for type {kind!r}; expected {', '.join(sorted(_FIELDS[kind]))}"
            )
        spec = ExporterSpec(name=str(name), type=kind)
        if kind == "otlp":
            endpoint = entry.get("endpoint")
            if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
                raise ConfigError(f"{where}.endpoint={endpoint!r}: expected an http:// or https:// URL")
            protocol = entry.get("protocol", "http/protobuf")
            if protocol not in PROTOCOLS:
                raise ConfigError(f"{where}.protocol={protocol!r}: expected one of {', '.join(PROTOCOLS)}")
            headers = entry.get("headers", {})
            if not isinstance(headers, Mapping) or not all(isinstance(v, str) for v in headers.values()):
                raise ConfigError(f"{where}.headers={headers!r}: expected a table of strings")
            timeout = entry.get("timeout", 10)
            if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
                raise ConfigError(f"{where}.timeout={timeout!r}: expected a number of seconds > 0")
            spec = ExporterSpec(spec.name, kind, endpoint, protocol, dict(headers), float(timeout))
        elif kind == "file":
            path = entry.get("path")
            if not isinstance(path, str) or not path.strip():
                raise ConfigError(f"{where}.path={path!r}: expected a file path")
            spec = ExporterSpec(spec.name, kind, path=path)
        specs[spec.name] = spec
    return specs


class FileSpanExporter(SpanExporter):
    """Appends each span as one line of JSON (the SDK's `ReadableSpan.to_json`, on one line)."""

    def __init__(self, path: str) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        lines = "".join(json.dumps(json.loads(span.to_json()), separators=(",", ":")) + "\n" for span in spans)
        with self._lock:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._path.open("a", encoding="utf-8") as handle:
                handle.write(lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def build(spec: ExporterSpec) -> SpanExporter:
    """The SDK exporter of a spec. `ConfigError` when the OTLP exporter package it needs is not installed."""
    if spec.type == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if spec.type == "file":
        return FileSpanExporter(spec.path or "")
    try:
        module = importlib.import_module(_otlp_module(spec))
    except ImportError:
        raise _not_installed(spec) from None
    return module.OTLPSpanExporter(endpoint=spec.endpoint, headers=dict(spec.headers), timeout=spec.timeout)


def check_installed(spec: ExporterSpec) -> None:
    """`ConfigError` when the exporter package an OTLP spec needs is not installed (without importing it)."""
    if spec.type == "otlp" and importlib.util.find_spec(_otlp_module(spec).rsplit(".", 1)[0]) is None:
        raise _not_installed(spec)


def _otlp_module(spec: ExporterSpec) -> str:
    return f"opentelemetry.exporter.otlp.proto.{'grpc' if spec.protocol == 'grpc' else 'http'}.trace_exporter"


def _not_installed(spec: ExporterSpec) -> ConfigError:
    extra = "opentelemetry-exporter-otlp-proto-grpc" if spec.protocol == "grpc" else "llmtap[otlp]"
    return ConfigError(
        f"exporters.{spec.name}: protocol {spec.protocol!r} needs the OTLP exporter; expected `pip install {extra}`"
    )
