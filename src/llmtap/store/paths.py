"""Where the local store lives: read while setting up, so it imports nothing of the store itself."""

from __future__ import annotations

import os
from pathlib import Path

from llmtap.config import DEFAULT_STORE, Settings


def store_path(settings: Settings | None = None) -> Path | None:
    """Where the store of these settings (default: the environment's) lives; None when `LLMTAP_STORE=off`."""
    if settings is None:
        from llmtap.config import load_settings

        settings = load_settings()
    value = settings.store
    if value.strip().lower() == "off":
        return None
    return Path(os.path.expanduser(value or DEFAULT_STORE))
