"""The values of OpenTelemetry semantic-convention names, read from the semconv module's source when it is not imported
yet: for the commands that start often and need a few names (`llmtap show`), importing
`opentelemetry.semconv._incubating.attributes.gen_ai_attributes` costs ~7 ms (the module, its enums and
`typing_extensions`), scanning its source for the names ~0.3 ms. The names stay the semconv package's own: a name
the scan does not find (an unusual layout, a compiled-only install) falls back to importing the module.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from types import ModuleType, SimpleNamespace

GEN_AI = "opentelemetry.semconv._incubating.attributes.gen_ai_attributes"

# `NAME: Final = "value"` at the top level; `class NameValues(Enum):` and its `    MEMBER = "value"` lines.
_LINE = re.compile(
    r"^(?:class (\w+)\(Enum\):"
    r'|([A-Z][A-Z0-9_]*): Final = "([^"\\\n]*)"'
    r'|    ([A-Z][A-Z0-9_]*) = "([^"\\\n]*)")$',
    re.M,
)


def scan(source: str) -> dict[str, str]:
    """Name -> value of the string constants (`GEN_AI_OPERATION_NAME`) and enum members
    (`GenAiOperationNameValues.CHAT`) of a semconv module's source."""
    found: dict[str, str] = {}
    enum = None
    for match in _LINE.finditer(source):
        header, constant, value, member, member_value = match.groups()
        if header is not None:
            enum = header
        elif constant is not None:
            enum = None
            found[constant] = value
        elif enum is not None:
            found[f"{enum}.{member}"] = member_value
    return found


def _source(module: str) -> str | None:
    parent, _, leaf = module.rpartition(".")
    try:
        for folder in importlib.import_module(parent).__path__:
            path = os.path.join(folder, leaf + ".py")
            if os.path.exists(path):
                with open(path, encoding="utf-8") as file:
                    return file.read()
    except (ImportError, AttributeError, OSError, UnicodeDecodeError):
        return None
    return None


def _attribute(loaded: ModuleType, name: str) -> str:
    value: object = loaded
    for part in name.split("."):
        value = getattr(value, part)
    return str(getattr(value, "value", value))


def read(module: str, *names: str) -> tuple[str, ...]:
    """The values of `names` in the semconv module `module` (a constant `GEN_AI_REQUEST_MODEL`, an enum member's value
    `GenAiOperationNameValues.CHAT`), without importing it unless it is imported already or its source does not
    show them all."""
    loaded = sys.modules.get(module)
    if loaded is None:
        source = _source(module)
        found = scan(source) if source is not None else {}
        if all(name in found for name in names):
            return tuple(found[name] for name in names)
        loaded = importlib.import_module(module)
    return tuple(_attribute(loaded, name) for name in names)


def constants(module: str, *names: str) -> SimpleNamespace:
    """`read`'s values as attributes named like the module's constants (`names.GEN_AI_REQUEST_MODEL`)."""
    return SimpleNamespace(**dict(zip(names, read(module, *names), strict=True)))
