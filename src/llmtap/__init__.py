"""llmtap: every LLM call observable with one line, on OpenTelemetry.

Importing llmtap imports no LLM SDK; `llmtap.instrument()` patches them when they are imported.
"""

from llmtap.errors import ConfigError, LlmtapError
from llmtap.instrumentation import instrument, uninstrument
from llmtap.refs import SpanRef, current_span_ref, span_of
from llmtap.version import __version__

__all__ = [
    "ConfigError",
    "LlmtapError",
    "SpanRef",
    "__version__",
    "current_span_ref",
    "instrument",
    "span_of",
    "uninstrument",
]
