"""In-memory OpenTelemetry pipeline for tests: every finished span and every metric point."""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class Telemetry:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def genai_spans(self) -> list[ReadableSpan]:
        return [span for span in self.spans() if span.instrumentation_scope.name == "llmtap"]

    def only_span(self) -> ReadableSpan:
        spans = self.genai_spans()
        assert len(spans) == 1, [span.name for span in spans]
        return spans[0]

    def metric_points(self, name: str) -> list[Any]:
        data = self.metric_reader.get_metrics_data()
        points = []
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points

    def reinstrument(self, *, capture_content: bool) -> None:
        """`llmtap.instrument()` again into this pipeline, with content capture as given."""
        import llmtap

        llmtap.instrument(
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            config={},
            capture_content=capture_content,
        )

    def everything_exported(self) -> str:
        """All span names, attributes, events and metric points as one string (for leak checks)."""
        parts = []
        for span in self.spans():
            parts.append(span.to_json())
        data = self.metric_reader.get_metrics_data()
        if data:
            parts.append(data.to_json())
        return "\n".join(parts)


def attribute_json(span: ReadableSpan, name: str) -> Any:
    return json.loads(span.attributes[name])
