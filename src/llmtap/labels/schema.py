"""The label schema: `[tool.llmtap.labels.<key>]` tables parsed into specs that normalise values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmtap.config import FALSE_WORDS, TRUE_WORDS
from llmtap.errors import ConfigError

LabelValue = str | int | float | bool

TYPES = ("string", "enum", "int", "float", "bool")
_FIELDS = frozenset({"type", "values", "required", "propagate", "metric", "description"})


class LabelProblem(ValueError):
    """A label value that does not fit its spec (turned into a log line, a drop or a `LabelError`)."""


@dataclass(frozen=True, slots=True)
class LabelSpec:
    key: str
    type: str = "string"
    values: tuple[LabelValue, ...] = ()
    required: bool = False
    propagate: bool = False
    # A dimension of llmtap's metrics (the cost counter): keep such labels low in cardinality.
    metric: bool = False
    description: str = ""

    def normalise(self, value: Any) -> LabelValue:
        """`value` converted to the declared type; `LabelProblem` naming value and expectation if it cannot be."""
        kind = self.type
        if kind == "string":
            return _plain(value, self.key)
        if kind == "enum":
            text = _plain(value, self.key)
            if text not in self.values:
                raise LabelProblem(f"label {self.key}={value!r}: expected one of {', '.join(map(str, self.values))}")
            return text
        if kind == "int":
            return _to_int(value, self.key)
        if kind == "float":
            return _to_float(value, self.key)
        return _to_bool(value, self.key)


def _plain(value: Any, key: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise LabelProblem(f"label {key}={value!r}: expected a string, number or boolean")


def _to_int(value: Any, key: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise LabelProblem(f"label {key}={value!r}: expected a whole number")


def _to_float(value: Any, key: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            raise LabelProblem(f"label {key}={value!r}: expected a number") from None
    else:
        raise LabelProblem(f"label {key}={value!r}: expected a number")
    if not math.isfinite(result):
        raise LabelProblem(f"label {key}={value!r}: expected a finite number")
    return result


def _to_bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):  # 1 / 0, as the message says; no other number
        return value == 1
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
    raise LabelProblem(f"label {key}={value!r}: expected a boolean (true/false, 1/0, yes/no, on/off)")


def plain_value(key: str, value: Any) -> LabelValue:
    """A label value with no spec: kept as a string, number or boolean; anything else as its `str()`."""
    if isinstance(value, str | bool | int | float):
        return value
    return str(value)


def _flag(raw: Any, where: str) -> bool:
    if not isinstance(raw, bool):
        raise ConfigError(f"{where}={raw!r}: expected true or false")
    return raw


def parse_spec(key: str, table: Any, source: str) -> LabelSpec:
    where = f"{source}: labels.{key}"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}={table!r}: expected a table with {', '.join(sorted(_FIELDS))}")
    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown field {unknown[0]!r}; expected one of {', '.join(sorted(_FIELDS))}")
    kind = table.get("type", "string")
    if kind not in TYPES:
        raise ConfigError(f"{where}.type={kind!r}: expected one of {', '.join(TYPES)}")
    values: tuple[LabelValue, ...] = ()
    if kind == "enum":
        raw_values = table.get("values")
        if not isinstance(raw_values, list) or not raw_values:
            raise ConfigError(f"{where}.values={raw_values!r}: expected a non-empty list of values for an enum")
        values = tuple(_plain(item, key) for item in raw_values)
    elif "values" in table:
        raise ConfigError(f"{where}.values: only an enum takes values; type is {kind!r}")
    description = table.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{where}.description={description!r}: expected a string")
    return LabelSpec(
        key=key,
        type=kind,
        values=values,
        required=_flag(table.get("required", False), f"{where}.required"),
        propagate=_flag(table.get("propagate", False), f"{where}.propagate"),
        metric=_flag(table.get("metric", False), f"{where}.metric"),
        description=description,
    )


def parse_schema(table: Any, source: str = "config") -> dict[str, LabelSpec]:
    """The `labels` table of the settings as specs by key (empty when no schema is declared)."""
    if not table:
        return {}
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: labels={table!r}: expected a table of [labels.<key>] tables")
    return {str(key): parse_spec(str(key), spec, source) for key, spec in table.items()}
