"""One span per API call, next to the anthropic SDK's own tracing.

anthropic 2.x starts a CLIENT span per API call itself (`start_api_call_span`) whenever its client has a
tracer: a global TracerProvider or the client's `open_telemetry={"tracer_provider": ...}`, unless
`ANTHROPIC_OPEN_TELEMETRY=false` or `open_telemetry=False` turned it off when the client was built.

Choice: llmtap's span takes the SDK span's place, rather than enriching it. The SDK span could not carry
llmtap's record: it is named `anthropic.messages.create` (not the semconv `chat {model}`), it goes to the
SDK's tracer provider rather than llmtap's, the SDK ends it on its own schedule (a non-streamed call's span
is ended before the call returns, before llmtap has the response), it records content by the SDK's own
policy (`content_mode`), not llmtap's, and it does not exist at all when the SDK's tracing is off — so
llmtap would need its own span anyway. So while llmtap records a call, the SDK is handed a non-recording
stand-in that carries llmtap's span context instead of starting its own span: nothing of the SDK's is
exported (whatever its tracing setting, for clients built before or after `instrument()`, since the SDK
resolves the span per call), and the SDK's trace-context propagation (`traceparent` on the HTTP request)
still names the one span there is, llmtap's. Calls llmtap does not record keep the SDK's span untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.trace import NonRecordingSpan

from llmtap.runtime import INSTRUMENTATION_SCOPE

# The SDK span names of the endpoints llmtap records (see `routing`).
RECORDED_SPAN_NAMES = frozenset({"anthropic.messages.create", "anthropic.messages.count_tokens"})


def _llmtap_span_for_this_call(options: Any) -> trace.Span | None:
    if getattr(options, "span_name", None) not in RECORDED_SPAN_NAMES:
        return None
    span = trace.get_current_span()
    scope = getattr(span, "instrumentation_scope", None)
    if getattr(scope, "name", None) != INSTRUMENTATION_SCOPE:
        return None
    attributes = getattr(span, "attributes", None) or {}
    if attributes.get(gen_ai.GEN_AI_PROVIDER_NAME) != "anthropic":
        return None
    return span


def start_api_call_span_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    """Wraps `anthropic._base_client.start_api_call_span(tracer, base_url, options, attributes, ...)`."""
    try:
        options = args[2] if len(args) > 2 else kwargs.get("options")
        span = _llmtap_span_for_this_call(options)
    except Exception:  # never in the way of the SDK
        span = None
    if span is None:
        return wrapped(*args, **kwargs)
    return NonRecordingSpan(span.get_span_context())
