"""llmtap: every LLM call observable with one line, on OpenTelemetry.

Importing llmtap imports no LLM SDK; `llmtap.instrument()` patches them when they are imported.
"""

from llmtap.decorators import agent, retrieval, tool, workflow
from llmtap.errors import ConfigError, LabelError, LlmtapError, UsageError
from llmtap.instrumentation import instrument, uninstrument
from llmtap.labels import current_tags, tags
from llmtap.manual import LLMTracer
from llmtap.refs import SpanRef, current_span_ref, span_of
from llmtap.version import __version__

__all__ = [
    "ConfigError",
    "LLMTracer",
    "LabelError",
    "LlmtapError",
    "SpanRef",
    "UsageError",
    "__version__",
    "agent",
    "current_span_ref",
    "current_tags",
    "instrument",
    "retrieval",
    "span_of",
    "tags",
    "tool",
    "uninstrument",
    "workflow",
]
