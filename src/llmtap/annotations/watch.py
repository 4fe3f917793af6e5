"""The span processor that resolves pending annotations when a span with their join key's label value appears.

Added to the runtime's tracer provider only once something is pending (so it costs nothing until then);
while nothing is pending it returns at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from llmtap.annotations import pending
from llmtap.annotations.model import Annotation, JoinKey
from llmtap.annotations.targets import label_text
from llmtap.labels.policy import ATTRIBUTE_PREFIX
from llmtap.processors import add_once
from llmtap.refs import SpanRef
from llmtap.safety import report_internal_error

Deliver = Callable[[Annotation, Any], None]  # (the resolved annotation, the span if still open, else None)


class JoinWatcher(SpanProcessor):
    def __init__(self, deliver: Deliver) -> None:
        self._deliver = deliver

    def _resolve(self, span: ReadableSpan, live: Any) -> None:
        labels = pending.holder().join_labels()
        if not labels:
            return
        try:
            attributes = span.attributes or {}
            for label in labels:
                value = attributes.get(ATTRIBUTE_PREFIX + label)
                if value is None:
                    continue
                taken = pending.holder().take(JoinKey(label, label_text(value)))
                if not taken:
                    continue
                ref = SpanRef.from_context(span.get_span_context())
                if ref is None:
                    continue
                for annotation in taken:
                    self._deliver(replace(annotation, target=annotation.target.resolved(ref)), live)
        except Exception as exc:
            report_internal_error("resolving pending annotations", exc)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self._resolve(span, span)

    def on_end(self, span: ReadableSpan) -> None:
        self._resolve(span, None)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def install(tracer_provider: object, deliver: Deliver) -> bool:
    """Add the watcher to an SDK tracer provider, once per provider. False if it is not an SDK provider."""
    return add_once(tracer_provider, "_llmtap_join_watcher", lambda: JoinWatcher(deliver))
