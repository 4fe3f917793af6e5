"""The values of OpenTelemetry semantic-convention names, read from the semconv module's source when it is not imported
yet: for the commands that start often and need a few names (`llmtap show`), importing
`opentelemetry.semconv._incubating.attributes.gen_ai_attributes` costs ~7 ms (the module, its enums and
`typing_extensions`), reading and scanning its source ~0.8 ms. The names stay the semconv package's own: a name
the scan does not find (an unusual layout, a compiled-only install) falls back to importing the module.
"""

from __future__ import annotations

import importlib
import os
import sys
from functools import cache
from types import ModuleType, SimpleNamespace

GEN_AI = "opentelemetry.semconv._incubating.attributes.gen_ai_attributes"


def _string(text: str) -> str | None:
    """The value of a plain string literal `"value"` (no quote or escape inside), else None."""
    if len(text) >= 2 and text[0] == text[-1] == '"' and '"' not in text[1:-1] and "\\" not in text:
        return text[1:-1]
    return None


def scan(source: str) -> dict[str, str]:
    """Name -> value of the string constants (`GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"` at the top
    level, as `GEN_AI_OPERATION_NAME`) and enum members (`    CHAT = "chat"` in `class GenAiOperationNameValues(Enum):`,
    as `GenAiOperationNameValues.CHAT`) of a semconv module's source. (String methods: compiling a regular expression
    for it would cost more than the scan.)"""
    found: dict[str, str] = {}
    enum = None
    for line in source.split("\n"):
        if line.startswith("class ") and line.endswith("(Enum):"):
            enum = line[6:-7]
        elif line.startswith("    ") and enum is not None:
            name, equals, value = line[4:].partition(" = ")
            text = _string(value) if equals else None
            if text is not None and name.isidentifier() and name.isupper():
                found[f"{enum}.{name}"] = text
        elif line[:1].isupper():
            name, final, value = line.partition(": Final = ")
            text = _string(value) if final else None
            if text is not None and name.isidentifier():
                enum = None
                found[name] = text
    return found


@cache
def _found(module: str) -> dict[str, str]:
    source = _source(module)
    return scan(source) if source is not None else {}


def _source(module: str) -> str | None:
    """The module's source file, found on `sys.path` as the import system would find a regular package's module,
    without importing its packages (`opentelemetry` is a namespace package: importing it lists every path entry)."""
    relative = os.path.join(*module.split(".")) + ".py"
    for entry in sys.path:
        path = os.path.join(entry or ".", relative)
        if os.path.isfile(path):
            try:
                with open(path, encoding="utf-8") as file:
                    return file.read()
            except (OSError, UnicodeDecodeError):
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
        found = _found(module)
        if all(name in found for name in names):
            return tuple(found[name] for name in names)
        loaded = importlib.import_module(module)
    return tuple(_attribute(loaded, name) for name in names)


def constants(module: str, *names: str) -> SimpleNamespace:
    """`read`'s values as attributes named like the module's constants (`names.GEN_AI_REQUEST_MODEL`)."""
    return SimpleNamespace(**dict(zip(names, read(module, *names), strict=True)))
