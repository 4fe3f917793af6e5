"""Where the local store lives: read while setting up, so it imports nothing of the store itself."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmtap.config import Settings


def store_path(settings: Settings | None = None) -> Path | None:
    """Where the store of these settings (default: the environment's) lives; None when `LLMTAP_STORE=off`."""
    if settings is not None:
        value = settings.store
    else:
        # A set LLMTAP_STORE wins over the config file: the file is read only when the variable is not set.
        value = os.environ.get("LLMTAP_STORE", "").strip()
        if not value:
            from llmtap.config import load_settings

            value = load_settings().store
    if value.strip().lower() == "off":
        return None
    if not value:
        from llmtap.config import DEFAULT_STORE

        value = DEFAULT_STORE
    return Path(os.path.expanduser(value))
