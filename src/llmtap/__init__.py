"""llmtap: every LLM call observable with one line, on OpenTelemetry.

Importing llmtap imports no LLM SDK; `llmtap.instrument()` patches them when they are imported.
The annotation API (`annotate`, `feedback_token`, `annotate_from_token`, `Annotation`) is loaded on first use.
"""

from typing import TYPE_CHECKING, Any

from llmtap.decorators import agent, retrieval, tool, workflow
from llmtap.errors import AnnotationError, ConfigError, LabelError, LlmtapError, UsageError
from llmtap.instrumentation import instrument, uninstrument
from llmtap.labels import current_tags, tags
from llmtap.manual import LLMTracer
from llmtap.refs import SpanRef, current_span_ref, span_of
from llmtap.version import __version__

if TYPE_CHECKING:
    from llmtap.annotations import Annotation, annotate, annotate_from_token, feedback_token

_LAZY = frozenset({"Annotation", "annotate", "annotate_from_token", "feedback_token"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:  # keeps `import llmtap` (and the capture path) free of the annotations package
        from llmtap import annotations

        value = globals()[name] = getattr(annotations, name)  # looked up once
        return value
    raise AttributeError(f"module 'llmtap' has no attribute {name!r}")


__all__ = [
    "Annotation",
    "AnnotationError",
    "ConfigError",
    "LLMTracer",
    "LabelError",
    "LlmtapError",
    "SpanRef",
    "UsageError",
    "__version__",
    "agent",
    "annotate",
    "annotate_from_token",
    "current_span_ref",
    "current_tags",
    "feedback_token",
    "instrument",
    "retrieval",
    "span_of",
    "tags",
    "tool",
    "uninstrument",
    "workflow",
]
