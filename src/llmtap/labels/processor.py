"""The span processor that stamps the current labels on every span when it starts."""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from llmtap import backends
from llmtap.labels import policy as _policy
from llmtap.labels.baggage import incoming_labels
from llmtap.labels.context import current_frame
from llmtap.labels.policy import attributes_of
from llmtap.processors import add_once
from llmtap.safety import report_internal_error


class LabelSpanProcessor(SpanProcessor):
    """`LLMTAP_TAGS`, then `tags()` labels, then propagated baggage labels (later wins), on every span.

    When a span ends, required labels are checked if it is an LLM span (see `LabelPolicy.check_span`):
    at the end, so a label set on the span itself (`LLMSpan.set_tag`) counts.

    Inert while llmtap is not configured (before `instrument()` / after `uninstrument()`).
    """

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        policy = _policy.current_policy()
        if not policy.active:
            return
        try:
            if policy.env_attributes:
                span.set_attributes(policy.env_attributes)
            frame = current_frame()
            if frame.attributes:
                span.set_attributes(frame.attributes)
            incoming = incoming_labels(policy, parent_context) if policy.propagated else None
            if incoming:
                span.set_attributes(attributes_of(incoming))
            if policy.backend_labels:
                labels = {**policy.env_labels, **frame.labels, **(incoming or {})}
                if labels:
                    span.set_attributes(backends.label_attributes(labels))
        except Exception as exc:
            report_internal_error("stamping labels on a span", exc)

    def on_end(self, span: ReadableSpan) -> None:
        """Required labels: an LLM span that ends without one is counted and logged once per key."""
        policy = _policy.current_policy()
        if not policy.required:
            return
        try:
            policy.check_span(span.name, span.attributes)
        except Exception as exc:
            report_internal_error("checking required labels on a span", exc)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def install(tracer_provider: object) -> bool:
    """Add the label processor to an SDK tracer provider, once per provider. False if not an SDK provider."""
    return add_once(tracer_provider, "_llmtap_label_processor", LabelSpanProcessor)
