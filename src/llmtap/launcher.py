"""The `opentelemetry-instrument` launcher's face of an llmtap plugin: a thin OpenTelemetry `BaseInstrumentor`.

Each plugin registers its light patching class (`llmtap.plugin.LlmtapInstrumentor`) under the
`llmtap.instrumentors` entry point, which `llmtap.instrument()` loads, and a subclass of `PluginInstrumentor`
naming that class under the `opentelemetry_instrumentor` entry point, which the launcher loads. Only this face
imports `opentelemetry.instrumentation`. It keeps no state of its own: instrumenting it instruments the plugin's
one instance, and it reports that instance's state, so the two ways in never patch twice.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, ClassVar

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from llmtap.plugin import LlmtapInstrumentor


class PluginInstrumentor(BaseInstrumentor):
    """`BaseInstrumentor` delegating to `plugin` (set by each subclass); other attributes are the plugin's."""

    plugin: ClassVar[type[LlmtapInstrumentor]]

    @property  # type: ignore[override]
    def _is_instrumented_by_opentelemetry(self) -> bool:
        return self.plugin().is_instrumented_by_opentelemetry

    @_is_instrumented_by_opentelemetry.setter
    def _is_instrumented_by_opentelemetry(self, value: bool) -> None:
        """`BaseInstrumentor` sets its flag after instrumenting; the plugin keeps the state itself."""

    def instrumentation_dependencies(self) -> Collection[str]:
        return self.plugin.supported

    def _instrument(self, **kwargs: Any) -> None:
        self.plugin().instrument(skip_dep_check=True, **kwargs)  # `BaseInstrumentor.instrument` checked them

    def _uninstrument(self, **kwargs: Any) -> None:
        self.plugin().uninstrument(**kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.plugin(), name)
