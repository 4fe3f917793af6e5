"""`AnthropicInstrumentor`: the anthropic plugin as an OpenTelemetry `BaseInstrumentor`, over `AnthropicPlugin`.

The `opentelemetry_instrumentor` entry point: what the `opentelemetry-instrument` launcher loads.
"""

from __future__ import annotations

from llmtap.launcher import PluginInstrumentor
from llmtap_anthropic import AnthropicPlugin

__all__ = ["AnthropicInstrumentor"]


class AnthropicInstrumentor(PluginInstrumentor):
    """Instruments anthropic through `AnthropicPlugin` (one instance: `llmtap.instrument()` sees it too)."""

    plugin = AnthropicPlugin
