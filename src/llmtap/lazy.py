"""Names of a module imported on first use (PEP 562): what keeps the commands that start often (`llmtap traces`) from
paying for modules they do not use."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(module: str, namespace: dict[str, Any], where: Mapping[str, str]) -> Callable[[str], Any]:
    """The `__getattr__` of `module` (whose globals are `namespace`) for the names of `where` (name -> the module
    defining it): each imported on first access, then kept in `namespace` so later lookups are plain reads."""

    def __getattr__(name: str) -> Any:
        source = where.get(name)
        if source is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = namespace[name] = getattr(importlib.import_module(source), name)
        return value

    return __getattr__
