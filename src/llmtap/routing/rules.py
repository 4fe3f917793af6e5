"""Routing rules from config: `[[tool.llmtap.routes]]` tables, their CEL conditions compiled and checked.

    [[tool.llmtap.routes]]
    name = "bad-feedback-to-review"
    when = 'annotations.human_feedback == "bad" || trace.error'
    sample = 1.0                          # 0..1, deterministic by trace id
    actions = ["queue:review", "exporter:vendor", "dataset:failures", "tag:triage=needed"]
    enabled = true
    description = "..."

A syntax error, a reference to a variable or field that does not exist, or a type error (found by
evaluating the condition on a probe trace with every documented field present) is a `ConfigError` naming
the rule and the position in its condition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cel

from llmtap.errors import ConfigError
from llmtap.routing import flatten, references, variables

ACTION_KINDS = ("queue", "exporter", "dataset", "tag")
_FIELDS = frozenset({"name", "when", "sample", "actions", "enabled", "description"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
# `trace.x` / `root.x` field references (outside string literals) checked against the documented fields.
_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_FIELD_REF = re.compile(r"\b(trace|root)\.([A-Za-z_]\w*)")


@dataclass(frozen=True, slots=True)
class Action:
    kind: str  # queue | exporter | dataset | tag
    target: str  # queue, exporter or dataset name; for tag, the label key
    value: str | None = None  # for tag: the label value

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}" + (f"={self.value}" if self.value is not None else "")


@dataclass(frozen=True)
class Rule:
    name: str
    when: str
    program: Any  # cel.Program
    sample: float = 1.0
    actions: tuple[Action, ...] = ()
    enabled: bool = True
    description: str = ""
    needs: references.Needs = references.ALL  # what the condition can read (built for it on each trace)
    flat: Any = None  # cel.Program: the condition reading flat variables (`flatten`); None: `program`
    # The rule's error-free outcomes by (matched, sampled), made once (`engine.evaluate_rule`).
    outcomes: dict[tuple[bool, bool], Any] = field(default_factory=dict, init=False, compare=False, repr=False)


def _position(source: str, offset: int) -> str:
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{column}"


def _caret(source: str, offset: int) -> str:
    start = source.rfind("\n", 0, offset) + 1
    end = source.find("\n", offset)
    line = source[start : end if end >= 0 else len(source)]
    return f"\n  | {line}\n  | {' ' * (offset - start)}^"


def parse_action(raw: Any, where: str) -> Action:
    if not isinstance(raw, str):
        raise ConfigError(f"{where}={raw!r}: expected a string such as 'queue:review'")
    kind, sep, rest = raw.partition(":")
    if not sep or kind not in ACTION_KINDS or not rest.strip():
        raise ConfigError(
            f"{where}={raw!r}: expected queue:<name>, exporter:<name>, dataset:<name> or tag:<key>=<value>"
        )
    rest = rest.strip()
    if kind == "tag":
        key, eq, value = rest.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"{where}={raw!r}: expected tag:<key>=<value>")
        return Action(kind, key.strip(), value.strip())
    if not _NAME.match(rest):
        raise ConfigError(f"{where}={raw!r}: {rest!r} is not a valid name (letters, digits, _ . -)")
    return Action(kind, rest)


def compile_condition(when: str, where: str) -> Any:
    """The compiled program of a condition; `ConfigError` for syntax, unknown names or types."""
    try:
        program = cel.compile(when)
    except ValueError as exc:
        message = str(exc)
        found = re.search(r"<input>:(\d+):(\d+): (.*?)\n", message)
        if found:
            line, column, what = found.groups()
            offset = _offset(when, int(line), int(column))
            raise ConfigError(f"{where}: {what} at {line}:{column}{_caret(when, offset)}") from None
        raise ConfigError(f"{where}: {message}") from None
    unknown = sorted(set(program.variables()) - variables.NAMES - _bound_names(when))
    if unknown:
        offset = _find_name(when, unknown[0])
        raise ConfigError(
            f"{where}: unknown variable {unknown[0]!r} at {_position(when, offset)}; expected one of "
            f"{', '.join(sorted(variables.NAMES))}{_caret(when, offset)}"
        )
    code = _STRINGS.sub(lambda match: " " * len(match.group()), when)
    for match in _FIELD_REF.finditer(code):
        owner, field_name = match.groups()
        known = variables.TRACE_FIELDS if owner == "trace" else variables.SPAN_FIELDS
        if field_name not in known:
            offset = match.start(2)
            raise ConfigError(
                f"{where}: {owner} has no field {field_name!r} at {_position(when, offset)}; expected one of "
                f"{', '.join(sorted(known))}{_caret(when, offset)}"
            )
    try:
        result = program.execute(variables.probe())
    except TypeError as exc:
        raise ConfigError(f"{where}: type error in {when!r}: {exc}") from None
    except KeyError:
        result = False  # a label or annotation the probe trace lacks: fine
    except Exception as exc:
        raise ConfigError(f"{where}: {when!r} cannot be evaluated: {exc}") from None
    if not isinstance(result, bool):
        raise ConfigError(f"{where}: {when!r} gives {type(result).__name__} {result!r}; expected a condition (bool)")
    return program


def _flat(when: str, program: Any, needs: references.Needs) -> Any:
    """The program of `when` rewritten to read flat variables (`flatten.rewrite`), else `program`."""
    source = flatten.rewrite(when, needs)
    if source == when:
        return program
    try:
        return cel.compile(source)
    except ValueError:  # not expected: the rewriting keeps the syntax; fall back to the maps
        return program


def _offset(source: str, line: int, column: int) -> int:
    lines = source.split("\n")
    return sum(len(text) + 1 for text in lines[: line - 1]) + max(column - 1, 0)


def _find_name(source: str, name: str) -> int:
    match = re.search(rf"\b{re.escape(name)}\b", _STRINGS.sub(lambda m: " " * len(m.group()), source))
    return match.start() if match else 0


def _bound_names(source: str) -> set[str]:
    """Names bound by comprehension macros (`spans.exists(s, ...)`): not free variables."""
    return set(re.findall(r"\.(?:all|exists|exists_one|map|filter)\(\s*([A-Za-z_]\w*)\s*,", source))


def parse_rules(table: Any, source: str = "config") -> list[Rule]:
    """The `routes` array of tables as rules, in order. Raises `ConfigError` naming the rule and field."""
    if not table:
        return []
    if not isinstance(table, Sequence) or isinstance(table, str | bytes):
        raise ConfigError(f"{source}: routes={table!r}: expected an array of [[routes]] tables")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, entry in enumerate(table):
        where = f"{source}: routes[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}={entry!r}: expected a table with name, when, actions")
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(f"{where}.name={name!r}: expected a name (letters, digits, _ . -)")
        where = f"{source}: routes[{index}] {name!r}"
        if name in seen:
            raise ConfigError(f"{where}: a second rule with this name; rule names must be unique")
        seen.add(name)
        unknown = sorted(set(entry) - _FIELDS)
        if unknown:
            raise ConfigError(f"{where}: unknown field {unknown[0]!r}; expected one of {', '.join(sorted(_FIELDS))}")
        when = entry.get("when")
        if not isinstance(when, str) or not when.strip():
            raise ConfigError(f"{where}.when={when!r}: expected a CEL condition such as 'trace.error'")
        sample = entry.get("sample", 1.0)
        if isinstance(sample, bool) or not isinstance(sample, int | float) or not 0 <= sample <= 1:
            raise ConfigError(f"{where}.sample={sample!r}: expected a number from 0 to 1")
        raw_actions = entry.get("actions")
        if not isinstance(raw_actions, list) or not raw_actions:
            raise ConfigError(f"{where}.actions={raw_actions!r}: expected a non-empty list such as ['queue:review']")
        actions = tuple(parse_action(raw, f"{where}.actions[{i}]") for i, raw in enumerate(raw_actions))
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{where}.enabled={enabled!r}: expected true or false")
        description = entry.get("description", "")
        if not isinstance(description, str):
            raise ConfigError(f"{where}.description={description!r}: expected a string")
        program = compile_condition(when, f"{where}.when")
        needs = references.analyse(when, program.variables())
        flat = _flat(when, program, needs)
        rules.append(Rule(name, when, program, float(sample), actions, enabled, description, needs, flat))
    return rules


def check_targets(rules: Sequence[Rule], tables: Mapping[str, Any], source: str = "config") -> None:
    """Every `queue:` and `exporter:` action names a declared queue or exporter (when any are declared
    for queues; always for exporters, which need their settings)."""
    queues = tables.get("queues") or {}
    exporters = tables.get("exporters") or {}
    for rule in rules:
        for action in rule.actions:
            where = f"{source}: routes {rule.name!r}.actions: {action}"
            if action.kind == "exporter" and action.target not in exporters:
                declared = ", ".join(sorted(exporters)) or "none are declared"
                raise ConfigError(
                    f"{where}: no exporter {action.target!r} under [exporters]; expected one of: {declared}"
                )
            if action.kind == "queue" and queues and action.target not in queues:
                raise ConfigError(
                    f"{where}: no queue {action.target!r} under [queues]; expected one of: {', '.join(sorted(queues))}"
                )
