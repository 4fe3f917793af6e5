"""The demo's one in-memory OpenTelemetry pipeline, and how it prints what llmtap exported.

Everything printed under "spans" and "metrics" is read back from the exporter and the metric reader:
nothing is made up. To fit a screen, attributes are grouped by prefix (`gen_ai.usage: input_tokens=21
output_tokens=7` is the two attributes `gen_ai.usage.input_tokens` and `gen_ai.usage.output_tokens`), the
JSON content attributes are rendered as `role: "text"` and long strings are shortened with "…".
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

# Attributes left out of the listing (transport details, and what the span name already says).
HIDDEN = {
    "gen_ai.operation.name",
    "gen_ai.request.model",
    "gen_ai.workflow.name",
    "gen_ai.response.id",
    "server.address",
    "server.port",
    "openai.response.service_tier",
    "openai.response.system_fingerprint",
    "llmtap.langchain.run_id",
}
# JSON content attributes, rendered readably.
MESSAGES = ("gen_ai.input.messages", "gen_ai.output.messages")
WIDTH = 112


def short(text: Any, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _part(part: dict[str, Any]) -> str:
    kind = part.get("type")
    if kind == "text":
        return json.dumps(short(part.get("content", ""), 56), ensure_ascii=False)
    if kind == "tool_call":
        arguments = part.get("arguments")
        arguments = json.dumps(arguments, ensure_ascii=False) if not isinstance(arguments, str) else arguments
        return f"tool_call {part.get('name')}({short(arguments, 40)})"
    if kind == "tool_call_response":
        return f"tool_call_response {short(part.get('response'), 40)}"
    if kind == "reasoning":
        return f"reasoning {json.dumps(short(part.get('content', ''), 40), ensure_ascii=False)}"
    return f"{kind}"


def _content(key: str, raw: Any) -> str:
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return short(raw)
    if key in MESSAGES:
        rendered = []
        for message in value:
            text = ", ".join(_part(part) for part in message.get("parts", []))
            reason = f" ({message['finish_reason']})" if message.get("finish_reason") else ""
            rendered.append(f"{message.get('role')}: {text}{reason}")
        return " | ".join(rendered)
    if key == "gen_ai.system_instructions":
        return ", ".join(_part(part) for part in value)
    if key == "gen_ai.tool.definitions":
        return "tools " + ", ".join(str(tool.get("name") or tool.get("function", {}).get("name")) for tool in value)
    if key == "gen_ai.retrieval.documents":
        return " | ".join(
            f"{doc.get('id')} ({doc.get('score')}) {json.dumps(short(doc.get('content', ''), 30), ensure_ascii=False)}"
            for doc in value
        )
    return short(raw)


def _value(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ",".join(str(item) for item in value) + "]"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, str):
        return short(value, 50)
    return str(value)


def _lines(span: ReadableSpan) -> list[str]:
    attributes = dict(span.attributes or {})
    lines = []
    grouped: dict[str, list[str]] = {}
    for key in sorted(attributes):
        if key in HIDDEN:
            continue
        if key in MESSAGES or key in (
            "gen_ai.system_instructions",
            "gen_ai.tool.definitions",
            "gen_ai.retrieval.documents",
        ):
            lines.append(f"{key}: {_content(key, attributes[key])}")
            continue
        head, _, rest = key.partition(".")
        group, _, name = rest.partition(".")
        prefix, name = (f"{head}.{group}", name) if name else (head, group)
        grouped.setdefault(prefix, []).append(f"{name}={_value(attributes[key])}")
    packed: list[str] = []  # short groups share a line
    for prefix, items in grouped.items():
        group = f"{prefix}: {' '.join(items)}"
        if packed and len(packed[-1]) + len(group) + 3 <= WIDTH - 12:
            packed[-1] += " · " + group
        else:
            packed.append(group)
    return packed + lines


def _wrap(line: str, indent: str) -> list[str]:
    room = WIDTH - len(indent)
    out = []
    while len(line) > room:
        cut = line.rfind(" ", 0, room)
        cut = cut if cut > room // 2 else room
        out.append(line[:cut])
        line = "    " + line[cut:].lstrip()
    return [indent + piece for piece in [*out, line]]


def print_tree(spans: list[ReadableSpan], *, attributes: bool = True) -> None:
    """`spans` as an indented tree (parents by span id, siblings in start order)."""
    ids = {span.context.span_id for span in spans}
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent is not None and span.parent.span_id in ids else None
        children.setdefault(parent, []).append(span)

    def show(parent: int | None, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda item: item.start_time or 0):
            indent = "  " + "   " * depth
            status = span.status.status_code.name
            if span.status.description:
                status += f" ({short(span.status.description, 40)})"
            print(f"{indent}● {span.name}   [{span.kind.name}, {status}]")
            if attributes:
                for line in _lines(span):
                    print("\n".join(_wrap(line, indent + "  ")))
            show(span.context.span_id, depth + 1)

    show(None, 0)


class Telemetry:
    """One TracerProvider and one MeterProvider for the whole demo, both in memory."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])
        self._shown = 0
        self.units: dict[str, str] = {}

    def new_spans(self) -> list[ReadableSpan]:
        """The spans finished since the last call."""
        spans = list(self.exporter.get_finished_spans())
        new, self._shown = spans[self._shown :], len(spans)
        return new

    def all_spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def show_new_spans(self, *, attributes: bool = True) -> None:
        print("\n  spans exported:")
        print_tree(self.new_spans(), attributes=attributes)

    def points(self) -> list[tuple[str, dict[str, Any], Any]]:
        """Every metric point so far (cumulative): (metric name, attributes, point)."""
        data = self.metric_reader.get_metrics_data()
        found = []
        for resource_metrics in data.resource_metrics if data else ():
            for scope in resource_metrics.scope_metrics:
                for metric in scope.metrics:
                    self.units[metric.name] = metric.unit
                    for point in metric.data.data_points:
                        found.append((metric.name, dict(point.attributes), point))
        return found

    def token_counts(self) -> dict[tuple[str, str, str], tuple[int, int]]:
        """`gen_ai.client.token.usage` by (provider, model, token type): (number of recordings, token sum)."""
        return {
            (
                attributes.get("gen_ai.provider.name", ""),
                attributes.get("gen_ai.request.model", ""),
                attributes.get("gen_ai.token.type", ""),
            ): (point.count, int(point.sum))
            for name, attributes, point in self.points()
            if name == "gen_ai.client.token.usage"
        }

    def print_metrics(self) -> None:
        shown = {"gen_ai.provider.name": "provider", "gen_ai.request.model": "model", "gen_ai.token.type": "token"}
        shown["error.type"] = "error.type"
        by_metric: dict[str, list[str]] = {}
        for name, attributes, point in self.points():
            detail = " ".join(f"{label}={attributes[key]}" for key, label in shown.items() if key in attributes)
            value = f"count={point.count:<3} sum={point.sum:.4g}" if hasattr(point, "count") else f"{point.value}"
            by_metric.setdefault(name, []).append(f"    {detail:66} {value}")
        for name in sorted(by_metric):
            print(f"  {name} ({self.units.get(name) or '-'})")
            print("\n".join(sorted(by_metric[name])))


def header(number: int, title: str) -> None:
    print("\n" + "═" * WIDTH)
    print(f"PART {number} · {title}")
    print("═" * WIDTH)


def app(*text: Any) -> None:
    """What the application itself printed (as opposed to what llmtap exported)."""
    print("  app>", *text)


class _InlineWarnings(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        print("\n".join(_wrap(f"[{record.levelname} {record.name}] {record.getMessage()}", "  ")), file=sys.stdout)


def show_llmtap_log() -> None:
    """Print llmtap's own log lines (warnings about bad labels) inline, where they happen."""
    logger = logging.getLogger("llmtap")
    logger.addHandler(_InlineWarnings())
    logger.setLevel(logging.WARNING)
