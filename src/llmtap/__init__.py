"""llmtap: every LLM call observable with one line, on OpenTelemetry.

Importing llmtap imports no LLM SDK, and hardly anything else: each name below is imported on first
use (`llmtap.instrument` brings what capturing needs; the loop's parts, such as the annotation API, come
only when used), so that `import llmtap; llmtap.instrument()` costs little next to importing the SDKs
it patches. `llmtap.instrument()` patches them when they are imported.
"""

# No `from __future__ import annotations` here: it would bind `llmtap.annotations` (the package) to a
# __future__ feature.
import importlib
from typing import TYPE_CHECKING, Any

from llmtap.errors import AnnotationError, ConfigError, LabelError, LlmtapError, UsageError
from llmtap.version import __version__

if TYPE_CHECKING:
    from llmtap.annotations import Annotation, annotate, annotate_from_token, feedback_token
    from llmtap.decorators import agent, retrieval, tool, workflow
    from llmtap.instrumentation import instrument, uninstrument
    from llmtap.labels import current_tags, tags
    from llmtap.manual import LLMTracer
    from llmtap.refs import SpanRef, current_span_ref, span_of

# Public name -> the module defining it, imported on first access.
_LAZY = {
    "Annotation": "llmtap.annotations",
    "annotate": "llmtap.annotations",
    "annotate_from_token": "llmtap.annotations",
    "feedback_token": "llmtap.annotations",
    "agent": "llmtap.decorators",
    "retrieval": "llmtap.decorators",
    "tool": "llmtap.decorators",
    "workflow": "llmtap.decorators",
    "instrument": "llmtap.instrumentation",
    "uninstrument": "llmtap.instrumentation",
    "current_tags": "llmtap.labels",
    "tags": "llmtap.labels",
    "LLMTracer": "llmtap.manual",
    "SpanRef": "llmtap.refs",
    "current_span_ref": "llmtap.refs",
    "span_of": "llmtap.refs",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'llmtap' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


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
