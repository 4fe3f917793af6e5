"""`OpenAIInstrumentor`: the openai plugin as an OpenTelemetry `BaseInstrumentor`, over `OpenAIPlugin`.

The `opentelemetry_instrumentor` entry point: what the `opentelemetry-instrument` launcher loads.
"""

from __future__ import annotations

from llmtap.launcher import PluginInstrumentor
from llmtap_openai import OpenAIPlugin

__all__ = ["OpenAIInstrumentor"]


class OpenAIInstrumentor(PluginInstrumentor):
    """Instruments openai through `OpenAIPlugin` (one instance: `llmtap.instrument()` sees it too)."""

    plugin = OpenAIPlugin
