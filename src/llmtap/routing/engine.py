"""Evaluating rules on one trace: which match, which are sampled in, and why (`explain`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any, NamedTuple

import cel

from llmtap.routing.flatten import same
from llmtap.routing.rules import Action, Rule

__all__ = [
    "Batch",
    "Clause",
    "Outcome",
    "clauses",
    "context",
    "evaluate",
    "evaluate_rule",
    "explain",
    "outcome",
    "same",
]


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


def outcome(rule: Rule, result: Any, trace_id: str) -> Outcome:
    """The rule's outcome when its condition gave `result` on the trace."""
    key = (result is True, rule.sample >= 1.0 or sampled(rule.name, trace_id, rule.sample))
    found = rule.outcomes.get(key)
    if found is None:
        found = rule.outcomes[key] = Outcome(rule, *key)
    return found


def evaluate_rule(rule: Rule, variables: Any, trace_id: str, program: Any = None) -> Outcome:
    """`variables`: a `context()` (fast, for many rules) or a mapping; `program`: the rule's condition
    compiled to read those variables (by default `rule.program`, reading the documented ones)."""
    if not isinstance(variables, cel.Context):
        variables = context(variables)
    try:
        result = (rule.program if program is None else program).execute(variables)
    except Exception as exc:  # a missing label or annotation key, a type this trace's data has
        return Outcome(rule, False, sampled(rule.name, trace_id, rule.sample), f"{type(exc).__name__}: {exc}")
    return outcome(rule, result, trace_id)


class Batch:
    """The enabled rules' conditions (`programs`) evaluated as one CEL list, in one call: each rule's value is
    what it would be alone. A rule whose condition fails on a trace (a missing key) would fail the whole list:
    from then on it is evaluated alone, and that trace's rules one by one.

    A condition's value depends only on the variables it reads (CEL has no side effects, and no function of
    the time or of anything else): evaluated again on the same context with none of them handed over anew
    since (`run(changed=...)`), it is taken as it was, and only the others are evaluated, each alone. Not
    thread-safe."""

    def __init__(self, rules: Sequence[Rule], programs: Sequence[Any]) -> None:
        self.rules = list(rules)
        self.programs = list(programs)
        self._readers: dict[str, list[int]] = {}  # the rules reading each variable
        for index, program in enumerate(self.programs):
            for name in program.variables():
                self._readers.setdefault(name, []).append(index)
        # Each rule's value on the context last evaluated: (result, None) or (None, error); None: not known.
        self._known: list[tuple[Any, str | None] | None] = [None] * len(self.rules)
        self._enabled = [index for index, rule in enumerate(self.rules) if rule.enabled]
        self._sampled = [index for index, rule in enumerate(self.rules) if rule.sample < 1.0]  # by trace id
        self._found: list[Outcome] | None = None  # the outcomes of the last `run`
        self._alone: set[int] = set()  # rules evaluated on their own
        self._together: list[int] = []
        self._program: Any = None
        # The outcomes (matched, not matched) of each rule that takes every trace (`sample` 1): made once.
        self._fixed = [
            (Outcome(rule, True, True), Outcome(rule, False, True)) if rule.sample >= 1.0 else None for rule in rules
        ]
        self._compile()

    def _compile(self) -> None:
        self._together = [i for i, rule in enumerate(self.rules) if rule.enabled and i not in self._alone]
        self._program = None
        if len(self._together) > 1:
            try:
                listed = ",".join(f"(\n{self.programs[i].source}\n)" for i in self._together)
                self._program = cel.compile(f"[{listed}]")
            except ValueError:  # not expected (each compiles alone): evaluate them one by one
                self._program = None
        if self._program is None:
            self._together = []
        together = set(self._together)
        self._rest = [index for index in range(len(self.rules)) if index not in together]

    def run(self, variables: Any, trace_id: str, changed: Set[str] | None = None) -> list[Outcome]:
        """Each rule's outcome; disabled rules are not evaluated (never matched, never selected). `changed`:
        the variables handed over anew since the last `run`, on the same context (None: anything may differ)."""
        known = self._known
        if changed is None:
            known = self._known = [None] * len(self.rules)
        else:
            readers = self._readers
            for name in changed:
                for index in readers.get(name, ()):
                    known[index] = None
        stale = [index for index in self._enabled if known[index] is None]
        if len(stale) == len(self._enabled):
            self._run_all(variables, known)
        else:
            programs = self.programs
            for index in stale:
                try:
                    known[index] = (programs[index].execute(variables), None)
                except Exception as exc:  # a missing label or annotation key, a type this trace's data has
                    known[index] = (None, f"{type(exc).__name__}: {exc}")
        previous = self._found if changed is not None else None
        if previous is None:
            found = []
            fixed = self._fixed
            for index, value in enumerate(known):
                outcomes = fixed[index]
                if value is None or value[1] is not None or outcomes is None:
                    found.append(self._outcome(index, trace_id))
                else:
                    found.append(outcomes[0] if value[0] is True else outcomes[1])
        else:  # a rule taking every trace (`sample` 1) has the outcome it had, unless its value changed
            found = list(previous)
            for index in stale:
                found[index] = self._outcome(index, trace_id)
            for index in self._sampled:
                found[index] = self._outcome(index, trace_id)
        self._found = found
        return found

    def _outcome(self, index: int, trace_id: str) -> Outcome:
        rule = self.rules[index]
        value = self._known[index]
        if value is None:  # disabled
            return Outcome(rule, False, sampled(rule.name, trace_id, rule.sample))
        if value[1] is not None:
            return Outcome(rule, False, sampled(rule.name, trace_id, rule.sample), value[1])
        fixed = self._fixed[index]
        if fixed is None:
            return outcome(rule, value[0], trace_id)
        return fixed[0] if value[0] is True else fixed[1]

    def _run_all(self, variables: Any, known: list[tuple[Any, str | None] | None]) -> None:
        """Every enabled rule's value: those not known to fail as one CEL list, the others alone."""
        programs = self.programs
        together = self._together
        if together:
            try:
                results = self._program.execute(variables)
            except Exception:
                results = None
            if results is not None:
                for index, result in zip(together, results, strict=True):
                    known[index] = (result, None)
            else:
                for index in together:
                    try:
                        known[index] = (programs[index].execute(variables), None)
                    except Exception as exc:
                        known[index] = (None, f"{type(exc).__name__}: {exc}")
                failed = {index for index in together if known[index][1] is not None}  # type: ignore[index]
                if failed:
                    self._alone |= failed
                    self._compile()
        for index in self._rest:
            if self.rules[index].enabled:
                try:
                    known[index] = (programs[index].execute(variables), None)
                except Exception as exc:
                    known[index] = (None, f"{type(exc).__name__}: {exc}")


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
