"""`LangChainInstrumentor`: the LangChain plugin as an OpenTelemetry `BaseInstrumentor`, over `LangChainPlugin`.

The `opentelemetry_instrumentor` entry point: what the `opentelemetry-instrument` launcher loads.
"""

from __future__ import annotations

from llmtap.launcher import PluginInstrumentor
from llmtap_langchain import LangChainPlugin

__all__ = ["LangChainInstrumentor"]


class LangChainInstrumentor(PluginInstrumentor):
    """Instruments LangChain through `LangChainPlugin` (one instance: `llmtap.instrument()` sees it too)."""

    plugin = LangChainPlugin
