"""Base class of every llmtap provider plugin: patches its library with wrapt when (and if) the library is
imported, and restores every original on uninstrument.

It is deliberately not an OpenTelemetry `BaseInstrumentor`: importing `opentelemetry.instrumentation` (and the
`packaging` requirement parser it brings) costs about half of what `llmtap.instrument()` costs at start-up.
`llmtap.instrument()` loads this class through the `llmtap.instrumentors` entry point; the
`opentelemetry-instrument` launcher loads the plugin's `BaseInstrumentor` face (`llmtap.launcher`) through
the `opentelemetry_instrumentor` entry point, which delegates here. There is one instance per plugin class,
so either way in sees what the other did.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from importlib.metadata import PackageNotFoundError, distribution
from typing import Any, ClassVar

import wrapt

from llmtap import runtime
from llmtap.errors import LlmtapError
from llmtap.problems import check_settings, turned_off
from llmtap.safety import logger, report_internal_error

_INHERITED = object()  # the wrapped attribute was not in the owner's own namespace: restore by deleting

# `name >= 1.2, < 2`: a requirement made of ordered comparisons of plain release numbers (the plugins' own form).
_PLAIN_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s+((?:[<>]=?\s*\d+(?:\.\d+)*\s*,?\s*)+)")
_CLAUSE = re.compile(r"([<>]=?)\s*(\d+(?:\.\d+)*)")
_PLAIN_VERSION = re.compile(r"\d+(?:\.\d+)*")


def _release(text: str, length: int) -> tuple[int, ...]:
    numbers = [int(part) for part in text.split(".")]
    return (*numbers, *[0] * (length - len(numbers)))


def installed_version(name: str) -> str | None:
    """The installed version of distribution `name` (None: not installed), read from the head of its metadata
    file: `importlib.metadata.version` parses the whole file, long descriptions included, which costs more."""
    try:
        dist = distribution(name)
    except PackageNotFoundError:
        return None
    head = (dist.read_text("METADATA") or dist.read_text("PKG-INFO") or "").partition("\n\n")[0]
    for line in head.splitlines():
        if line.startswith("Version:"):
            return line.removeprefix("Version:").strip()
    return dist.version


def plainly_satisfied(requirement: str) -> bool:
    """Whether `requirement` (e.g. `openai >= 3.50, < 4`) is met by the installed distribution, decided without
    `packaging` when both sides are plain release numbers (then PEP 440 ordering is the ordering of the
    zero-padded number tuples). False means "not shown here": the caller asks `packaging`."""
    matched = _PLAIN_REQUIREMENT.fullmatch(requirement)
    if matched is None:
        return False
    installed = installed_version(matched.group(1))
    if installed is None or _PLAIN_VERSION.fullmatch(installed) is None:
        return False
    for operator, bound in _CLAUSE.findall(matched.group(2)):
        length = max(installed.count("."), bound.count(".")) + 1
        have, limit = _release(installed, length), _release(bound, length)
        ok = {">=": have >= limit, "<=": have <= limit, ">": have > limit, "<": have < limit}[operator]
        if not ok:
            return False
    return True


def dependency_conflict(requirements: Collection[str]) -> Any:
    """The first requirement the installed distributions do not meet, as OpenTelemetry's `DependencyConflict`
    (None when all are met). The common case is decided without importing `packaging`."""
    if all(plainly_satisfied(requirement) for requirement in requirements):
        return None
    from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

    return get_dependency_conflicts(requirements)


class LlmtapInstrumentor(ABC):
    """Subclasses name their provider, library and supported range, and implement `patch()`.

    `instrument()` / `uninstrument()` behave as OpenTelemetry's `BaseInstrumentor`'s do (the same keywords,
    the same dependency check, one instance per class), without its imports.
    """

    name: ClassVar[str]
    library: ClassVar[str]
    supported: ClassVar[tuple[str, ...]]

    _instance: ClassVar[Any] = None
    _is_instrumented = False
    _active = False
    _patched = False
    _generation = 0  # counts restores: hooks registered by an earlier patching stay inert

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls.__dict__.get("_instance") is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    @property
    def is_instrumented_by_opentelemetry(self) -> bool:
        """Whether the plugin is instrumented in this process (by `llmtap.instrument()` or the launcher)."""
        return self._is_instrumented

    def instrumentation_dependencies(self) -> Collection[str]:
        return self.supported

    @classmethod
    def library_available(cls) -> bool:
        return importlib.util.find_spec(cls.library) is not None

    def instrument(self, **kwargs: Any) -> None:
        """Patch the library (now if imported, else when it is). Keywords: `tracer_provider`, `meter_provider`,
        `logger_provider`; `skip_dep_check` and `raise_exception_on_conflict` as for `BaseInstrumentor`."""
        if self._is_instrumented:
            logger.warning("llmtap: %s is already instrumented", self.name)
            return
        skip_dep_check = kwargs.pop("skip_dep_check", False)
        raise_exception_on_conflict = kwargs.pop("raise_exception_on_conflict", False)
        if not skip_dep_check:
            conflict = dependency_conflict(self.instrumentation_dependencies())
            if conflict:
                if raise_exception_on_conflict:
                    from opentelemetry.instrumentation.dependencies import DependencyConflictError

                    raise DependencyConflictError(conflict)
                logger.error("llmtap: %s", conflict._format_message(type(self).__name__))
                return
        self._instrument(**kwargs)
        self._is_instrumented = True

    def uninstrument(self, **kwargs: Any) -> None:
        """Restore every original the plugin replaced."""
        if self._is_instrumented:
            self._uninstrument(**kwargs)
            self._is_instrumented = False

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
