"""Evaluating rules on one trace: which match, which are sampled in, and why (`explain`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import cel

from llmtap.routing.rules import Action, Rule


def sampled(rule_name: str, trace_id: str, rate: float) -> bool:
    """Deterministic by trace id (and rule), so every process decides the same for a trace."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.sha256(f"{rule_name}\x00{trace_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


class Outcome(NamedTuple):
    """One rule on one trace (a named tuple: made 20 times per trace, it must be cheap)."""

    rule: Rule
    matched: bool  # the condition held
    sampled: bool  # the trace is in the rule's sample
    error: str | None = None  # the condition could not be evaluated on this trace (no match)

    @property
    def selected(self) -> bool:
        return self.matched and self.sampled and self.rule.enabled

    @property
    def actions(self) -> tuple[Action, ...]:
        return self.rule.actions if self.selected else ()


def context(variables: Mapping[str, Any]) -> Any:
    """The variables as a CEL context, converted once and shared by every rule evaluated on the trace."""
    return cel.Context(dict(variables))


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (`1 == True == 1.0` in Python, not in CEL; nor are
    0.0 and -0.0 the same to CEL: `1.0 / x`)."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        return a.keys() == b.keys() and all(same(value, b[key]) for key, value in a.items())
    if kind is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if kind is float and a == 0.0:
        return b == 0.0 and str(a) == str(b)
    return bool(a == b)


class ReusedContext:
    """One CEL context kept from trace to trace: a variable is handed to CEL (microseconds per map entry) only
    when its value differs from the previous trace's, e.g. the labels of a run of traces from one feature.
    Not thread-safe: the caller holds a lock across `update` and the evaluations."""

    def __init__(self) -> None:
        self._context = cel.Context()
        self._values: dict[str, Any] = {}

    def update(self, variables: Mapping[str, Any], keys: Mapping[str, Any] | None = None) -> Any:
        """The context holding exactly `variables`. `keys`: for some of them, a stand-in compared instead of
        the value (equal only for values CEL cannot tell apart)."""
        values = self._values
        if len(values) > len(variables) or values.keys() - variables.keys():  # a variable to drop: afresh
            self._context, values = cel.Context(), {}
            self._values = values
        context = self._context
        keys = keys or {}
        for name, value in variables.items():
            old = values.get(name, _MISSING)
            key = keys.get(name, _MISSING)
            if key is not _MISSING:
                if old is _MISSING or old[1] != key:
                    context.add_variable(name, value)
                    values[name] = (value, key)
            elif old is _MISSING or not same(old[0], value):
                context.add_variable(name, value)
                values[name] = (value, _MISSING)
        return context


_MISSING = object()


def evaluate_rule(rule: Rule, variables: Any, trace_id: str, program: Any = None) -> Outcome:
    """`variables`: a `context()` (fast, for many rules) or a mapping; `program`: the rule's condition
    compiled to read those variables (by default `rule.program`, reading the documented ones)."""
    if not isinstance(variables, cel.Context):
        variables = context(variables)
    try:
        result = (rule.program if program is None else program).execute(variables)
    except Exception as exc:  # a missing label or annotation key, a type this trace's data has
        return Outcome(rule, False, sampled(rule.name, trace_id, rule.sample), f"{type(exc).__name__}: {exc}")
    key = (result is True, rule.sample >= 1.0 or sampled(rule.name, trace_id, rule.sample))
    found = rule.outcomes.get(key)
    if found is None:
        found = rule.outcomes[key] = Outcome(rule, *key)
    return found


def evaluate(rules: Sequence[Rule], variables: Mapping[str, Any], trace_id: str) -> list[Outcome]:
    shared = context(variables)
    return [evaluate_rule(rule, shared, trace_id) for rule in rules]


# --- explain ----------------------------------------------------------------------------------------

_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def clauses(expression: str) -> list[str]:
    """The top-level `&&` / `||` operands of a condition (outside parentheses and strings)."""
    masked = _STRING.sub(lambda match: "_" * len(match.group()), expression)
    parts, depth, start, index = [], 0, 0, 0
    while index < len(masked):
        char = masked[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and masked.startswith(("&&", "||"), index):
            parts.append(expression[start:index].strip())
            start = index + 2
            index += 1
        index += 1
    parts.append(expression[start:].strip())
    return [part for part in parts if part]


@dataclass(frozen=True, slots=True)
class Clause:
    source: str
    value: Any  # the clause's value on the trace, or None with `error`
    error: str | None = None


def explain(rule: Rule, variables: Mapping[str, Any], trace_id: str) -> tuple[Outcome, list[Clause]]:
    """The rule's outcome and the value of each top-level clause of its condition."""
    outcome = evaluate_rule(rule, variables, trace_id)
    parts = clauses(rule.when)
    if len(parts) < 2:
        return outcome, [Clause(rule.when, outcome.matched if outcome.error is None else None, outcome.error)]
    details = []
    shared = context(variables)
    for part in parts:
        try:
            details.append(Clause(part, cel.compile(part).execute(shared)))
        except Exception as exc:
            details.append(Clause(part, None, f"{type(exc).__name__}: {exc}"))
    return outcome, details
