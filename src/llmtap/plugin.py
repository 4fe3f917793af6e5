"""Base class of every llmtap provider plugin: an OpenTelemetry `BaseInstrumentor` that patches its
library with wrapt when (and if) the library is imported, and restores every original on uninstrument.
"""

from __future__ import annotations

import importlib
import importlib.util
from abc import abstractmethod
from collections.abc import Callable, Collection
from typing import Any, ClassVar

import wrapt
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from llmtap import runtime
from llmtap.errors import LlmtapError
from llmtap.problems import check_settings, turned_off
from llmtap.safety import report_internal_error

_INHERITED = object()  # the wrapped attribute was not in the owner's own namespace: restore by deleting


class LlmtapInstrumentor(BaseInstrumentor):
    """Subclasses name their provider, library and supported range, and implement `patch()`."""

    name: ClassVar[str]
    library: ClassVar[str]
    supported: ClassVar[tuple[str, ...]]

    _active = False
    _patched = False
    _generation = 0  # counts restores: hooks registered by an earlier patching stay inert

    def instrumentation_dependencies(self) -> Collection[str]:
        return self.supported

    @classmethod
    def library_available(cls) -> bool:
        return importlib.util.find_spec(cls.library) is not None

    def _instrument(self, **kwargs: Any) -> None:
        try:
            settings = runtime.current_settings()
            check_settings(settings)  # under the launcher nobody else tells (`instrument()` told already)
            if not settings.enabled:  # before anything is set up: the kill switch leaves no trace
                return
            runtime.ensure(
                tracer_provider=kwargs.get("tracer_provider"),
                meter_provider=kwargs.get("meter_provider"),
                logger_provider=kwargs.get("logger_provider"),
            )
        except LlmtapError as exc:
            # A bad setting from the environment or a file: told once, the same way `instrument()` tells it;
            # under the launcher an exception here would stop every other instrumentor too.
            turned_off(exc)
            return
        self._wrapped: list[tuple[Any, str, Any]] = []
        self._active = True
        wrapt.register_post_import_hook(self._on_import, self.library)

    def _on_import(self, _module: Any) -> None:
        if not self._active or self._patched:
            return
        try:
            self.patch()
            self._patched = True
        except Exception as exc:
            report_internal_error(f"patching {self.library}", exc)
            self._restore()

    def _uninstrument(self, **kwargs: Any) -> None:
        self._active = False
        self._restore()

    def _restore(self) -> None:
        wrapped, self._wrapped = getattr(self, "_wrapped", []), []
        for owner, attribute, original in reversed(wrapped):
            try:
                if original is _INHERITED:
                    delattr(owner, attribute)
                else:
                    setattr(owner, attribute, original)
            except Exception as exc:
                report_internal_error(f"restoring {attribute}", exc)
        self._patched = False
        self._generation += 1

    def when_imported(self, module: str, patch: Callable[[Any], None]) -> None:
        """Run `patch(module object)` when the application imports `module` (now, if it already has).

        For modules of the library that the library itself imports only on first use (stream helpers and
        the like): `instrument()` must not import them, as importing some costs more than the rest of
        llmtap. Wrappers `patch` installs are restored by uninstrument like the others; a hook left from
        before an uninstrument does nothing.
        """
        generation = self._generation

        def hook(imported: Any) -> None:
            if not self._active or self._generation != generation:
                return
            try:
                patch(imported)
            except Exception as exc:
                report_internal_error(f"patching {module}", exc)

        wrapt.register_post_import_hook(hook, module)

    def wrap(self, module: str, name: str, wrapper: Callable[..., Any]) -> None:
        """Wrap `module.name` (`name` may be `Class.method`) with a wrapt function wrapper."""
        owner: Any = importlib.import_module(module)
        *path, attribute = name.split(".")
        for part in path:
            owner = getattr(owner, part)
        self.wrap_attribute(owner, attribute, wrapper)

    def wrap_attribute(self, owner: Any, attribute: str, wrapper: Callable[..., Any]) -> None:
        """Wrap `owner.attribute` (owner: a class or module) with a wrapt function wrapper.

        Uninstrument puts back exactly what the owner's own namespace held: the original function or
        descriptor, or nothing when the owner only inherited the attribute.
        """
        original = vars(owner).get(attribute, _INHERITED)
        wrapt.wrap_function_wrapper(owner, attribute, wrapper)
        self._wrapped.append((owner, attribute, original))

    @abstractmethod
    def patch(self) -> None:
        """Install the wrappers (called once the library is imported)."""
