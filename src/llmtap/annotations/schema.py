"""Annotation schemas: `[tool.llmtap.annotations.<name>]` tables parsed into specs that check values.

    [tool.llmtap.annotations.human_feedback]
    type = "categorical"                      # categorical | score | boolean | text
    values = { good = 1.0, bad = 0.0 }        # categorical: a list of labels, or label -> score
    version = 2                               # bumped when the meaning changes
    description = "thumbs up / down from the chat UI"
    explanation = "optional"                  # optional | required
    targets = ["span", "trace"]               # any of span, trace, session (default: all)
    annotators = ["end_user", "human"]        # any of human, end_user, llm, code (default: all)
    safe = false                              # true: explanations and text values hold no user content

A score takes `min`, `max` (numbers, both optional) and `integer` (true: whole numbers only).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmtap.config import FALSE_WORDS, TRUE_WORDS
from llmtap.errors import AnnotationError, ConfigError

TYPES = ("categorical", "score", "boolean", "text")
TARGET_KINDS = ("span", "trace", "session")
ANNOTATOR_KINDS = ("human", "end_user", "llm", "code")
EXPLANATION_POLICIES = ("optional", "required")
_COMMON = frozenset({"type", "version", "description", "explanation", "targets", "annotators", "safe"})
_BY_TYPE = {
    "categorical": frozenset({"values"}),
    "score": frozenset({"min", "max", "integer"}),
    "boolean": frozenset(),
    "text": frozenset(),
}

Value = str | int | float | bool


@dataclass(frozen=True, slots=True)
class Checked:
    """A value that fits its schema: the value as recorded, its numeric score and its label, if any."""

    value: Value
    score: float | None
    label: str | None


@dataclass(frozen=True, slots=True)
class AnnotationSchema:
    name: str
    type: str
    version: int = 1
    description: str = ""
    explanation: str = "optional"
    targets: tuple[str, ...] = TARGET_KINDS
    annotators: tuple[str, ...] = ANNOTATOR_KINDS
    safe: bool = False
    labels: tuple[str, ...] = ()  # categorical: the labels, in declared order
    scores: Mapping[str, float] | None = None  # categorical with a table: label -> score
    min: float | None = None
    max: float | None = None
    integer: bool = False

    def allows(self) -> str:
        """What a value must be, in words (for error messages and `llmtap annotations check`)."""
        if self.type == "categorical":
            return f"one of {', '.join(self.labels)}"
        if self.type == "score":
            what = "a whole number" if self.integer else "a number"
            if self.min is not None and self.max is not None:
                return f"{what} from {_number(self.min)} to {_number(self.max)}"
            if self.min is not None:
                return f"{what} >= {_number(self.min)}"
            if self.max is not None:
                return f"{what} <= {_number(self.max)}"
            return what
        if self.type == "boolean":
            return "a boolean (true/false, 1/0, yes/no, on/off)"
        return "a non-empty text"

    def check(self, value: Any) -> Checked:
        """`value` checked and normalised; `AnnotationError` naming the value and what is allowed if it does not fit."""
        kind = self.type
        if kind == "categorical":
            if isinstance(value, str) and value in self.labels:
                return Checked(value, None if self.scores is None else self.scores[value], value)
        elif kind == "score":
            number = _to_number(value)
            if number is not None and self._in_range(number):
                result: int | float = int(number) if self.integer else number
                return Checked(result, float(number), None)
        elif kind == "boolean":
            flag = _to_bool(value)
            if flag is not None:
                return Checked(flag, 1.0 if flag else 0.0, "true" if flag else "false")
        elif isinstance(value, str) and value.strip():
            return Checked(value, None, None)
        raise AnnotationError(f"annotation {self.name!r}: value={value!r}: expected {self.allows()}{self._version()}")

    def _in_range(self, number: float) -> bool:
        if self.integer and not number.is_integer():
            return False
        if self.min is not None and number < self.min:
            return False
        return self.max is None or number <= self.max

    def _version(self) -> str:
        return f" (schema version {self.version})"


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def _to_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
    return None


def open_check(name: str, value: Any) -> Checked:
    """A value of an undeclared annotation (`LLMTAP_ANNOTATIONS_MODE=open`): a string, number or boolean."""
    if isinstance(value, bool):
        return Checked(value, 1.0 if value else 0.0, "true" if value else "false")
    if isinstance(value, int | float) and math.isfinite(value):
        return Checked(value, float(value), None)
    if isinstance(value, str) and value.strip():
        return Checked(value, None, value)
    raise AnnotationError(f"annotation {name!r}: value={value!r}: expected a string, a finite number or a boolean")


# Parsing the config table.


def _kinds(raw: Any, where: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(item, str) for item in raw):
        raise ConfigError(f"{where}={raw!r}: expected a non-empty list of {', '.join(allowed)}")
    for item in raw:
        if item not in allowed:
            raise ConfigError(f"{where}={raw!r}: {item!r} is not one of {', '.join(allowed)}")
    return tuple(dict.fromkeys(raw))


def _finite(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ConfigError(f"{where}={raw!r}: expected a finite number")
    return float(raw)


def _categorical(table: Mapping[str, Any], where: str) -> tuple[tuple[str, ...], dict[str, float] | None]:
    raw = table.get("values")
    if isinstance(raw, list) and raw and all(isinstance(item, str) and item for item in raw):
        if len(set(raw)) != len(raw):
            raise ConfigError(f"{where}.values={raw!r}: a label is listed twice")
        return tuple(raw), None
    if isinstance(raw, Mapping) and raw:
        scores = {str(label): _finite(score, f"{where}.values.{label}") for label, score in raw.items()}
        return tuple(scores), scores
    raise ConfigError(
        f"{where}.values={raw!r}: expected a non-empty list of labels or a table of label = score, "
        "e.g. { good = 1.0, bad = 0.0 }"
    )


def parse_schema(name: str, table: Any, source: str) -> AnnotationSchema:
    where = f"{source}: annotations.{name}"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}={table!r}: expected a table with type, values, version, description, ...")
    kind = table.get("type")
    if kind not in TYPES:
        raise ConfigError(f"{where}.type={kind!r}: expected one of {', '.join(TYPES)}")
    fields = _COMMON | _BY_TYPE[kind]
    unknown = sorted(set(table) - fields)
    if unknown:
        raise ConfigError(
            f"{where}.{unknown[0]}: not a field of a {kind} annotation; expected one of {', '.join(sorted(fields))}"
        )
    version = table.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ConfigError(f"{where}.version={version!r}: expected a whole number >= 1")
    description = table.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{where}.description={description!r}: expected a string")
    explanation = table.get("explanation", "optional")
    if explanation not in EXPLANATION_POLICIES:
        raise ConfigError(f"{where}.explanation={explanation!r}: expected optional or required")
    safe = table.get("safe", False)
    if not isinstance(safe, bool):
        raise ConfigError(f"{where}.safe={safe!r}: expected true or false")
    extra: dict[str, Any] = {}
    if kind == "categorical":
        extra["labels"], extra["scores"] = _categorical(table, where)
    elif kind == "score":
        low = _finite(table["min"], f"{where}.min") if "min" in table else None
        high = _finite(table["max"], f"{where}.max") if "max" in table else None
        if low is not None and high is not None and low > high:
            raise ConfigError(f"{where}: min={table['min']!r} is above max={table['max']!r}; expected min <= max")
        integer = table.get("integer", False)
        if not isinstance(integer, bool):
            raise ConfigError(f"{where}.integer={integer!r}: expected true or false")
        extra.update(min=low, max=high, integer=integer)
    return AnnotationSchema(
        name=name,
        type=kind,
        version=version,
        description=description,
        explanation=explanation,
        targets=_kinds(table["targets"], f"{where}.targets", TARGET_KINDS) if "targets" in table else TARGET_KINDS,
        annotators=(
            _kinds(table["annotators"], f"{where}.annotators", ANNOTATOR_KINDS)
            if "annotators" in table
            else ANNOTATOR_KINDS
        ),
        safe=safe,
        **extra,
    )


def parse_schemas(table: Any, source: str = "config") -> dict[str, AnnotationSchema]:
    """The `annotations` table of the settings as schemas by name (empty when none is declared)."""
    if not table:
        return {}
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: annotations={table!r}: expected a table of [annotations.<name>] tables")
    return {str(name): parse_schema(str(name), spec, source) for name, spec in table.items()}
