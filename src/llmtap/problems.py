"""How configuration problems are told: each once per process, the same way for every way in.

`llmtap.instrument()` and the `opentelemetry-instrument` launcher path both report through here, so a bad
value reads the same whichever way llmtap was started.
"""

from __future__ import annotations

import logging
import threading

from llmtap.config import Settings, did_you_mean
from llmtap.errors import LlmtapError

logger = logging.getLogger("llmtap")

_reported: set[str] = set()
_lock = threading.Lock()


def report_once(level: int, message: str) -> None:
    """Log `message` on the `llmtap` logger, once per process."""
    with _lock:
        if message in _reported:
            return
        _reported.add(message)
    logger.log(level, "llmtap: %s", message)


def _warn_unknown_disabled(disabled: frozenset[str]) -> None:
    """Names in OTEL_PYTHON_DISABLED_INSTRUMENTATIONS that no installed instrumentor has: likely misspelled."""
    from opentelemetry.util._importlib_metadata import entry_points

    names = {entry.name for entry in entry_points(group="opentelemetry_instrumentor")}
    for name in sorted(disabled - names - {"*"}):
        report_once(
            logging.WARNING,
            f"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS names {name!r}, which no installed instrumentation has, "
            f"so it disables nothing{did_you_mean(name, names)}",
        )


def check_settings(settings: Settings) -> None:
    """Log the settings' errors (ERROR) and warnings (WARNING), each once per process."""
    for message in settings.errors:
        report_once(logging.ERROR, message)
    for message in settings.warnings:
        report_once(logging.WARNING, message)
    if settings.disabled_instrumentations:
        _warn_unknown_disabled(settings.disabled_instrumentations)


def turned_off(exc: LlmtapError) -> None:
    """A bad setting from the environment or a file found while setting up: logged once, llmtap stays off."""
    report_once(logging.ERROR, f"{exc}; llmtap is off")
