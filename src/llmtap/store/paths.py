"""Where the local store lives: read while setting up, so it imports nothing of the store itself."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from llmtap.config import Settings

DEFAULT_STORE = ".llmtap/llmtap.db"  # the setting's default (`llmtap.config`), relative to the working directory

# What a pyproject.toml defining `[tool.llmtap]` has, in any of TOML's spellings (`[tool.llmtap]`, `[tool."llmtap"]`,
# `tool.llmtap.store = ...`, `llmtap = {...}` under `[tool]`): the key, then a dot, `]` or `=`. A dependency on llmtap
# (`"llmtap"`, `"llmtap==0.1"`, `"llmtap[all]"`) does not match, mostly; a file that matches is read in full.
_LLMTAP_KEY = rb"""llmtap["']?\s*(?:[.\]]|=(?!=))"""


def store_path(settings: Settings | None = None) -> Path | None:
    """Where the store of these settings (default: the environment's) lives; None when `LLMTAP_STORE=off`."""
    from pathlib import Path

    location = store_location(settings)
    return None if location is None else Path(location)


def store_location(settings: Settings | None = None) -> str | None:
    """`store_path` as a str, without pathlib (with urllib.parse and ipaddress ~7 ms of a command reading the store)."""
    if settings is not None:
        value = settings.store
    else:
        # A set LLMTAP_STORE wins over the config file: the file is read only when the variable is not set, and only
        # when there is one that may set the store (what the commands reading the store need, without the settings'
        # and TOML's modules).
        value = os.environ.get("LLMTAP_STORE", "").strip()
        if not value and config_may_set_store():
            from llmtap.config import load_settings

            value = load_settings().store
    if value.strip().lower() == "off":
        return None
    return as_path_text(os.path.expanduser(value or DEFAULT_STORE))


def as_path_text(path: str) -> str:
    """`str(pathlib.Path(path))` (the path as the store and the commands print it), importing pathlib (with
    urllib.parse and ipaddress, ~7 ms of a command reading the store) only when the text is not already in that
    form: an empty part (`a//b`, a trailing `/`) or a `.` part, or another operating system's paths."""
    if os.name == "posix" and path not in ("", ".") and not path.startswith("./") and not path.endswith(("/", "/.")):
        if "//" not in path and "/./" not in path:
            return path
    from pathlib import Path

    return str(Path(path))


def config_may_set_store() -> bool:
    """Whether a config file may name the store: `LLMTAP_CONFIG` is set, or the pyproject.toml `llmtap.config` reads
    (the nearest one from the working directory up) may define `[tool.llmtap]`."""
    if os.environ.get("LLMTAP_CONFIG"):
        return True
    folder = os.getcwd()
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate):
            try:
                with open(candidate, "rb") as handle:
                    return re.search(_LLMTAP_KEY, handle.read()) is not None
            except OSError:
                return True  # the settings say what is wrong with it
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent
