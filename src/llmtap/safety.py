"""The "never break the application" rule: internal failures are logged once and swallowed."""

from __future__ import annotations

import logging

logger = logging.getLogger("llmtap")

_already_logged: set[str] = set()


def report_internal_error(where: str, exc: BaseException) -> None:
    """Log an exception raised inside llmtap, once per place and exception type, at WARNING."""
    try:
        key = f"{where}:{type(exc).__qualname__}"
        if key in _already_logged:
            return
        _already_logged.add(key)
        from llmtap.redaction import scrub  # (imports this module)

        logger.warning(
            "llmtap: internal error in %s (%s: %s); the application's call is unaffected",
            where,
            type(exc).__qualname__,
            scrub(str(exc)),
            exc_info=exc,
        )
    except Exception:
        pass
