"""In-memory OpenTelemetry pipeline for tests: every finished span and every metric point.

The pipeline itself is llmtap's own (`llmtap.testing.InMemoryTelemetry`, what the pytest plugin uses).
"""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from llmtap.testing import InMemoryTelemetry


class Telemetry(InMemoryTelemetry):
    def genai_spans(self) -> list[ReadableSpan]:
        return [span for span in self.spans() if span.instrumentation_scope.name == "llmtap"]

    def only_span(self) -> ReadableSpan:
        spans = self.genai_spans()
        assert len(spans) == 1, [span.name for span in spans]
        return spans[0]

    def reinstrument(self, *, capture_content: bool) -> None:
        """`llmtap.instrument()` again into this pipeline, with content capture as given."""
        import llmtap

        llmtap.instrument(
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            config={},
            capture_content=capture_content,
        )


def attribute_json(span: ReadableSpan, name: str) -> Any:
    return json.loads(span.attributes[name])
