"""Macros over `spans` computed in Python: `spans.exists(s, P)`, `spans.all(s, P)`, `spans.exists_one(s, P)`,
`spans.filter(s, P).size()` with a simple test `P` become one flat CEL variable (a bool, or an int count).

Handing CEL the spans costs microseconds per string and double converted, and CEL iterates a list at
~0.5 µs per element; a bool costs ~0.3 µs, and none when it did not change since the previous trace.

`P` is simple when it is made only of: `s.f` for a span field other than `attributes` (its type is fixed:
string, int or double), `s.attributes.k` / `s.attributes["k"]`, `has(...)` of those; literals (plain
strings, ints, doubles, `true`, `false`, a list of them after `in`); `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`
between one of those fields and a literal; `.startsWith(...)`, `.endsWith(...)`, `.contains(...)` of a
string literal; `!`, `&&`, `||` and parentheses. A field compared with a literal of another type is not
simple (that is a CEL error or a cross-type comparison): such a macro is left to CEL.

Each test gives, per span, True, False, or None: "CEL might not give a bool here without error" (an
attribute that is missing, or of another type than the literal, a NaN ordered, an int out of range). A
span field's test is never None. The macro's value is taken in the order CEL takes it (the spans by start
time) and stops where CEL stops (`exists` at the first true, `all` at the first false); meeting a None
first, the value is undecided on this trace. A macro that reads attributes is therefore rewritten as
`(__spans_decided_X ? __spans_pred_X : <the macro as written, over the spans as maps>)`: CEL evaluates the
macro itself on a trace where Python cannot decide exactly (and the maps are built only then).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from llmtap.routing.references import bracket, plain_string

# The type of each span field other than `attributes` (`variables._COLUMNS`).
FIELD_TYPES: dict[str, type] = {
    "span_id": str,
    "parent_span_id": str,
    "name": str,
    "kind": str,
    "operation": str,
    "provider": str,
    "model": str,
    "status": str,
    "error_type": str,
    "duration_ms": float,
    "input_tokens": int,
    "output_tokens": int,
    "cost": float,
}
MACROS = ("exists", "all", "exists_one", "count")  # count: `filter(s, P).size()`
_RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_SWAPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ORDERING = frozenset({"<", "<=", ">", ">="})
_METHODS: dict[str, Callable[[str, str], bool]] = {
    "startsWith": str.startswith,
    "endsWith": str.endswith,
    "contains": str.__contains__,
}
_INT64 = (-(2**63), 2**63 - 1)
_MAYBE_NAN = frozenset({"cost"})  # a double span field that may be NaN (from an attribute); durations never are
def _contained(value: Any, literal: tuple[Any, ...]) -> bool:
    return value in literal


ABSENT: Any = object()  # an attribute a span lacks (or whose value is left out: `variables.MAX_ATTRIBUTE_CHARS`)

Results = list[bool | None]


class _Reject(Exception):
    """Not a simple test: the macro is left to CEL."""


# --- the tests ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operand:
    """`s.f` (`key` None) or `s.attributes.k`."""

    field: str | None
    key: str | None = None

    @property
    def kind(self) -> type | None:
        """The value's type: fixed for a span field, any for an attribute (None)."""
        return FIELD_TYPES[self.field] if self.field is not None else None

    def values(self, view: Any) -> list[Any]:
        return view.column(self.field) if self.field is not None else view.attribute_column(self.key)


@dataclass(frozen=True)
class Relation:
    operand: Operand
    relation: str  # one of `_RELATIONS`, or "in" (`literal` a tuple)
    literal: Any

    def __call__(self, view: Any) -> Results:
        """Of an attribute: decided where CEL gives what Python gives, which is where the value has the
        literal's type (an int within CEL's range; a double, unless NaN is ordered: CEL cannot order NaN)."""
        if self.operand.kind is not None:
            return self.exact(view)
        values = self.operand.values(view)
        literal = self.literal
        if self.relation == "in":
            test: Callable[[Any, Any], bool] = _contained
            kind = type(literal[0])
        else:
            test = _RELATIONS[self.relation]
            kind = type(literal)
        if kind is int:
            low, high = _INT64
            return [test(value, literal) if type(value) is int and low <= value <= high else None for value in values]
        if kind is float and self.relation in _ORDERING:
            return [test(value, literal) if type(value) is float and value == value else None for value in values]
        return [test(value, literal) if type(value) is kind else None for value in values]

    def exact(self, view: Any) -> Results:
        """Of a span field (never None but for an ordered NaN)."""
        values = self.operand.values(view)
        literal = self.literal
        if self.relation == "in":
            return [value in literal for value in values]
        if self.operand.field in _MAYBE_NAN and self.relation in _ORDERING:
            test = _RELATIONS[self.relation]
            return [None if value != value else test(value, literal) for value in values]
        return list(map(_RELATIONS[self.relation], values, itertools.repeat(literal)))


@dataclass(frozen=True)
class Method:
    operand: Operand
    method: str  # one of `_METHODS`
    literal: str

    def __call__(self, view: Any) -> Results:
        test, literal = _METHODS[self.method], self.literal
        values = self.operand.values(view)
        if self.operand.kind is str:
            return list(map(test, values, itertools.repeat(literal)))
        return [test(value, literal) if type(value) is str else None for value in values]

    exact = __call__


@dataclass(frozen=True)
class Has:
    operand: Operand

    def __call__(self, view: Any) -> Results:
        if self.operand.key is None:
            return [True] * len(view.ordered)  # every span has each field
        return [value is not ABSENT for value in self.operand.values(view)]

    exact = __call__


@dataclass(frozen=True)
class Truth:
    """An attribute used as a condition: decided when it is a bool."""

    operand: Operand

    def __call__(self, view: Any) -> Results:
        return [value if type(value) is bool else None for value in self.operand.values(view)]

    exact = __call__


@dataclass(frozen=True)
class Constant:
    value: bool

    def __call__(self, view: Any) -> Results:
        return [self.value] * len(view.ordered)

    exact = __call__


@dataclass(frozen=True)
class Not:
    test: Any

    def __call__(self, view: Any) -> Results:
        return [None if value is None else not value for value in self.test(view)]

    def exact(self, view: Any) -> Results:
        return list(map(operator.not_, self.test.exact(view)))


@dataclass(frozen=True)
class And:
    left: Any
    right: Any

    def __call__(self, view: Any) -> Results:
        # false && x is false whatever x (even an error); true && x is x; an undecided left side stays so
        lefts = self.left(view)
        if True not in lefts and None not in lefts:
            return lefts
        return [right if left is True else left for left, right in zip(lefts, self.right(view), strict=True)]

    def exact(self, view: Any) -> Results:
        lefts = self.left.exact(view)
        return lefts if True not in lefts else list(map(operator.and_, lefts, self.right.exact(view)))


@dataclass(frozen=True)
class Or:
    left: Any
    right: Any

    def __call__(self, view: Any) -> Results:
        lefts = self.left(view)
        if False not in lefts and None not in lefts:
            return lefts
        return [right if left is False else left for left, right in zip(lefts, self.right(view), strict=True)]

    def exact(self, view: Any) -> Results:
        lefts = self.left.exact(view)
        return lefts if False not in lefts else list(map(operator.or_, lefts, self.right.exact(view)))


# --- the macros ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predicate:
    """A macro over the spans with a simple test; its value on a trace, None when undecided."""

    macro: str  # one of `MACROS`
    test: Any
    fallible: bool  # may be undecided on some trace (it reads attributes, or orders a cost)
    fields: tuple[str, ...]  # the span fields it reads (`attributes` for attributes)
    keys: frozenset[str]  # the attribute keys it reads

    @functools.cached_property
    def digest(self) -> str:
        return hashlib.sha256(repr((self.macro, self.test)).encode()).hexdigest()[:12]

    @functools.cached_property
    def name(self) -> str:
        return f"__spans_pred_{self.digest}"

    @functools.cached_property
    def decided(self) -> str:
        return f"__spans_decided_{self.digest}"

    def __post_init__(self) -> None:
        object.__setattr__(self, "_value", self._fast() or (self._undecided() if self.fallible else self._compiled()))

    def __call__(self, view: Any) -> bool | int | None:
        return self._value(view)  # type: ignore[attr-defined, no-any-return]

    @property
    def value(self) -> Callable[[Any], bool | int | None]:
        """The function computing the predicate's value on a trace (a `TraceView`)."""
        return self._value  # type: ignore[attr-defined, no-any-return]

    def _decide(self, view: Any) -> bool | int | None:
        """In the order CEL takes the spans, stopping where it stops; None where Python cannot decide."""
        results = self.test(view)
        macro = self.macro
        if macro == "exists":
            for result in results:
                if result is not False:
                    return result  # True, or None (CEL would stop here too, perhaps with an error)
            return False
        if macro == "all":
            for result in results:
                if result is not True:
                    return result
            return True
        if None in results:
            return None
        count = results.count(True)
        return count == 1 if macro == "exists_one" else count

    def _exact(self, view: Any) -> bool | int:
        """Every span's test a bool (no attribute is read)."""
        results = self.test.exact(view)
        macro = self.macro
        if macro == "exists":
            return True in results
        if macro == "all":
            return False not in results
        count = results.count(True)
        return count == 1 if macro == "exists_one" else count

    def _undecided(self) -> Callable[[Any], bool | int | None]:
        """`_decide` with the test made into closures and the spans scanned by C-level list searches."""
        results = _decide_function(self.test)
        macro = self.macro
        if macro in ("exists", "all"):
            deciding = macro == "exists"  # the value that stops the scan (and is the macro's value)

            def scan(view: Any) -> bool | None:
                found = results(view)
                if None not in found:
                    return deciding if deciding in found else not deciding
                before = found[: found.index(None)]  # CEL stops at the first deciding span, or fails here
                return deciding if deciding in before else None

            return scan

        def count(view: Any) -> bool | int | None:
            found = results(view)
            if None in found:
                return None
            total = found.count(True)
            return total == 1 if macro == "exists_one" else total

        return count

    def _compiled(self) -> Callable[[Any], bool | int]:
        """`_exact` with the test made into closures (fewer lookups per trace)."""
        results = _exact_function(self.test)
        if self.macro == "exists":
            return lambda view: True in results(view)
        if self.macro == "all":
            return lambda view: False not in results(view)
        if self.macro == "exists_one":
            return lambda view: results(view).count(True) == 1
        return lambda view: results(view).count(True)

    def _fast(self) -> Callable[[Any], bool | int] | None:
        """Common tests as one C-level scan of a column: a field equal (or not) to a literal, or several fields
        each equal to one (`exists`)."""
        test, macro = self.test, self.macro
        if self.fallible:
            return None
        if isinstance(test, Relation) and test.relation in ("==", "!=") and test.operand.field is not None:
            field, literal = test.operand.field, test.literal
            equal = test.relation == "=="
            if macro == ("exists" if equal else "all"):
                return lambda view: (literal in view.column(field)) is equal
            count: Callable[[Any], int] = (
                (lambda view: view.column(field).count(literal))
                if equal
                else (lambda view: len(view.ordered) - view.column(field).count(literal))
            )
            if macro == "count":
                return count
            if macro == "exists_one":
                return lambda view: count(view) == 1
            if equal:  # all
                return lambda view: count(view) == len(view.ordered)
            return lambda view: count(view) > 0  # exists
        if macro == "exists":
            equal = _equalities(test)
            if equal is not None:
                fields = tuple(field for field, _ in equal)
                literals = tuple(literal for _, literal in equal)

                def exists(view: Any) -> bool:
                    columns = [view.column(field) for field in fields]
                    for literal, column in zip(literals, columns, strict=True):
                        if literal not in column:
                            return False
                    return literals in zip(*columns)  # noqa: B905 (columns of one length)

                return exists
        return None


_FLIPPED = {  # `op(value, literal)` as `flipped(literal, value)`, for `functools.partial(flipped, literal)`
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.gt,
    "<=": operator.ge,
    ">": operator.lt,
    ">=": operator.le,
}


def _exact_function(test: Any) -> Callable[[Any], Results]:
    """`test.exact` as a closure over what it reads (the test reads no attribute)."""
    if isinstance(test, Relation) and test.operand.field is not None:
        field = test.operand.field
        if test.relation == "in" or (field in _MAYBE_NAN and test.relation in _ORDERING):
            return test.exact
        compare = functools.partial(_FLIPPED[test.relation], test.literal)
        return lambda view: list(map(compare, view.column(field)))
    if isinstance(test, Method) and test.operand.field is not None:
        field, method, literal = test.operand.field, _METHODS[test.method], test.literal
        return lambda view: list(map(method, view.column(field), itertools.repeat(literal)))
    if isinstance(test, And | Or):
        left, right = _exact_function(test.left), _exact_function(test.right)
        decides, combine = (True, operator.and_) if isinstance(test, And) else (False, operator.or_)

        def combined(view: Any) -> Results:
            lefts = left(view)
            if decides not in lefts:  # every span decided by its left side
                return lefts
            return list(map(combine, lefts, right(view)))

        return combined
    if isinstance(test, Not):
        inner = _exact_function(test.test)
        return lambda view: list(map(operator.not_, inner(view)))
    return test.exact  # type: ignore[no-any-return]


def _decide_function(test: Any) -> Callable[[Any], Results]:
    """`test(view)` as a closure over what it reads: per span True, False or None (undecided)."""
    if isinstance(test, Relation | Method | Truth | Has) and test.operand.field is None:
        key = test.operand.key
        if isinstance(test, Has):
            return lambda view: [value is not ABSENT for value in view.attribute_column(key)]
        if isinstance(test, Truth):
            return lambda view: [value if type(value) is bool else None for value in view.attribute_column(key)]
        if isinstance(test, Method):
            method, literal = _METHODS[test.method], test.literal
            return lambda view: [
                method(value, literal) if type(value) is str else None for value in view.attribute_column(key)
            ]
        if test.relation != "in" and type(test.literal) is str:
            compare = functools.partial(_FLIPPED[test.relation], test.literal)
            return lambda view: [compare(value) if type(value) is str else None for value in view.attribute_column(key)]
        return test  # type: ignore[no-any-return]
    if isinstance(test, And | Or):
        left, right = _decide_function(test.left), _decide_function(test.right)
        decides = not isinstance(test, And)  # the left value that decides a span whatever the right side is

        def combined(view: Any) -> Results:
            lefts = left(view)
            if (not decides) not in lefts and None not in lefts:
                return lefts  # every span decided by its left side
            rights = right(view)
            return [value if value is None or value is decides else right for value, right in zip(lefts, rights)]  # noqa: B905

        return combined
    if isinstance(test, Not):
        inner = _decide_function(test.test)
        return lambda view: [None if value is None else not value for value in inner(view)]
    return test  # type: ignore[no-any-return]


def _equalities(test: Any) -> list[tuple[str, Any]] | None:
    """`s.f == literal && s.g == literal ...` over span fields, as (field, literal) pairs; else None."""
    if isinstance(test, And):
        left, right = _equalities(test.left), _equalities(test.right)
        return None if left is None or right is None else left + right
    if isinstance(test, Relation) and test.relation == "==" and test.operand.field is not None:
        return [(test.operand.field, test.literal)]
    return None


# --- parsing a macro's test ---------------------------------------------------------------------------


def _ident(token: str) -> bool:
    return token[:1].isalpha() or token[:1] == "_"


def _number(token: str, negative: bool) -> int | float:
    if token[-1:] in "uU":
        raise _Reject  # uint
    if token[:2] in ("0x", "0X"):
        value: int | float = int(token, 16)
    elif any(char in token for char in ".eE"):
        value = float(token)
    else:
        value = int(token)
    value = -value if negative else value
    if type(value) is int and not _INT64[0] <= value <= _INT64[1]:
        raise _Reject
    return value


class _Parser:
    """A recursive-descent parser of the simple tests (anything else: `_Reject`), over tokens."""

    def __init__(self, toks: Sequence[str], bound: str) -> None:
        self.toks = toks
        self.bound = bound
        self.index = 0
        self.fields: set[str] = set()
        self.keys: set[str] = set()
        self.fallible = False  # some span's test may be undecided

    def at(self, offset: int = 0) -> str:
        index = self.index + offset
        return self.toks[index] if index < len(self.toks) else ""

    def take(self, token: str | None = None) -> str:
        found = self.at()
        if found == "" or (token is not None and found != token):
            raise _Reject
        self.index += 1
        return found

    def parse(self) -> Any:
        test = self.condition()
        if self.index != len(self.toks):
            raise _Reject
        return test

    def condition(self) -> Any:
        test = self.conjunction()
        while self.at() == "||":
            self.take()
            test = Or(test, self.conjunction())
        return test

    def conjunction(self) -> Any:
        test = self.relation()
        while self.at() == "&&":
            self.take()
            test = And(test, self.relation())
        return test

    def relation(self) -> Any:
        left = self.unary()
        relation = self.at()
        if relation not in _RELATIONS and relation != "in":
            return self.truth(left)
        self.take()
        right = self.unary()
        if self.at() in _RELATIONS or self.at() == "in":
            raise _Reject  # chained relations
        if relation == "in":
            if not isinstance(left, Operand) or not isinstance(right, tuple) or not right:
                raise _Reject
            kinds = {type(item) for item in right}
            if len(kinds) != 1 or (left.kind is not None and left.kind not in kinds):
                raise _Reject
            return Relation(left, "in", right)
        if isinstance(right, Operand) and _literal(left):
            left, right, relation = right, left, _SWAPPED[relation]
        if not isinstance(left, Operand) or not _literal(right) or isinstance(right, tuple):
            raise _Reject
        if left.kind is not None and type(right) is not left.kind:
            raise _Reject  # another type: an error, or a cross-type comparison
        if type(right) is bool and relation in _ORDERING:
            raise _Reject
        if left.field in _MAYBE_NAN and relation in _ORDERING:
            self.fallible = True  # CEL cannot order NaN
        return Relation(left, relation, right)

    def truth(self, value: Any) -> Any:
        """`value` used as a condition."""
        if isinstance(value, Operand):
            if value.kind is not None:
                raise _Reject  # no span field is a bool
            return Truth(value)
        if type(value) is bool:
            return Constant(value)
        if isinstance(value, Not | And | Or | Relation | Method | Has | Truth | Constant):
            return value
        raise _Reject

    def unary(self) -> Any:
        if self.at() == "!":
            self.take()
            return Not(self.truth(self.unary()))
        if self.at() == "-":
            self.take()
            token = self.take()
            if not token[:1].isdigit() and token[:1] != ".":
                raise _Reject
            return _number(token, True)
        return self.member()

    def member(self) -> Any:
        token = self.at()
        if token == "(":
            self.take()
            test = self.condition()
            self.take(")")
            return test
        if token == "has" and self.at(1) == "(":
            self.take()
            self.take()
            operand = self.member()
            self.take(")")
            if not isinstance(operand, Operand):
                raise _Reject
            return Has(operand)
        if token == "[":
            return self.listed()
        if token == self.bound:
            self.take()
            operand = self.operand()
            if self.at() == "." and self.at(1) in _METHODS and self.at(2) == "(":
                self.take(".")
                method = self.take()
                self.take("(")
                literal = self.literal()
                self.take(")")
                if type(literal) is not str or operand.kind not in (str, None):
                    raise _Reject
                return Method(operand, method, literal)
            return operand
        return self.literal()

    def selection(self) -> str:
        """`.f` or `["f"]`."""
        if self.at() == "." and _ident(self.at(1)) and self.at(2) != "(":
            self.take()
            return self.take()
        if self.at() == "[" and plain_string(self.at(1)) and self.at(2) == "]":
            self.take()
            name = self.take()[1:-1]
            self.take()
            return name
        raise _Reject

    def operand(self) -> Operand:
        field = self.selection()
        if field == "attributes":
            key = self.selection()
            self.fields.add(field)
            self.keys.add(key)
            self.fallible = True
            return Operand(None, key)
        if field not in FIELD_TYPES:
            raise _Reject
        self.fields.add(field)
        return Operand(field)

    def listed(self) -> tuple[Any, ...]:
        self.take("[")
        items = []
        while self.at() != "]":
            items.append(self.literal())
            if self.at() != "]":
                self.take(",")
        self.take("]")
        return tuple(items)

    def literal(self) -> Any:
        token = self.take()
        if token in ("true", "false"):
            return token == "true"
        if plain_string(token):
            return token[1:-1]
        if token[:1].isdigit() or (token[:1] == "." and token[1:2].isdigit()):
            return _number(token, False)
        if token == "-":
            return _number(self.take(), True)
        raise _Reject


def _literal(value: Any) -> bool:
    return type(value) in (str, int, float, bool, tuple)


PREDICATES: dict[str, Predicate] = {}  # by name, as `parse` made them


def parse(toks: list[str], macro: str, opening: int) -> tuple[Predicate, int] | None:
    """The predicate of `spans.<macro>(s, test)` whose `(` is `toks[opening]` (`macro` one of `MACROS`,
    `filter` for `count`), and the index of its `)`; None when the test is not simple."""
    closing, commas = bracket(toks, opening)
    bound = toks[opening + 1] if opening + 1 < len(toks) else ""
    if commas != 1 or toks[closing] != ")" or not _ident(bound) or toks[opening + 2] != ",":
        return None
    parser = _Parser(toks[opening + 3 : closing], bound)
    try:
        test = parser.parse()
    except (_Reject, ValueError):
        return None
    fields = tuple(sorted(parser.fields))
    predicate = Predicate(macro, test, parser.fallible, fields, frozenset(parser.keys))
    PREDICATES[predicate.name] = predicate
    return predicate, closing


# --- tests of the trace's own fields ------------------------------------------------------------------

# The type of each `trace` field, in the order of `variables._trace_figures`.
TRACE_TYPES: dict[str, type] = {
    "trace_id": str,
    "root_name": str,
    "duration_ms": float,
    "error": bool,
    "span_count": int,
    "model_calls": int,
    "input_tokens": int,
    "output_tokens": int,
    "cost": float,
}
TRACE_ORDER = tuple(TRACE_TYPES)
_SPAN_ATTRIBUTES = frozenset({"span_id", "name", "kind", "status"})  # span fields that are a `SpanFacts` string
_OWNERS: dict[str, dict[str, type]] = {"trace": TRACE_TYPES, "root": FIELD_TYPES}
# Tokens around `x < literal` that bind no tighter than a relation: the relation is exactly that.
_BEFORE_RELATION = frozenset({"", "(", "[", ",", "&&", "||", "?", ":"})
_AFTER_RELATION = frozenset({"", ")", "]", ",", "&&", "||", "?", ":"})


@dataclass(frozen=True)
class Scalar:
    """`trace.f <relation> literal` (or of `root.f`; or a sum of int `trace`/`root` fields), or a string field's
    `startsWith`/`endsWith`/`contains` of a literal, computed in Python: a bool that changes only when the
    test's outcome does (the field itself changes with nearly every trace: a duration, a token count).
    Undecided (None) where CEL would fail: a sum beyond int64, NaN ordered (`cost`)."""

    operands: tuple[tuple[str, str], ...]  # (owner, field)
    relation: str  # one of `_RELATIONS` or `_METHODS`
    literal: Any

    @functools.cached_property
    def fallible(self) -> bool:
        return len(self.operands) > 1 or (
            self.relation in _ORDERING and any(field in _MAYBE_NAN for _, field in self.operands)
        )

    @functools.cached_property
    def digest(self) -> str:
        return hashlib.sha256(repr((self.operands, self.relation, self.literal)).encode()).hexdigest()[:12]

    @functools.cached_property
    def name(self) -> str:
        return f"__trace_pred_{self.digest}"

    @functools.cached_property
    def decided(self) -> str:
        return f"__trace_decided_{self.digest}"

    def __call__(self, view: Any) -> bool | None:
        return self.compiled(view.figures(), view)

    @functools.cached_property
    def compiled(self) -> Callable[[tuple[Any, ...], Any], bool | None]:
        """The test as a function of the trace's figures (`variables.TRACE_ORDER`) and its `TraceView`."""
        literal = self.literal
        method = _METHODS.get(self.relation)
        test = method if method is not None else _RELATIONS[self.relation]
        (owner, field), *more = self.operands
        if not more and owner == "trace":
            index = TRACE_ORDER.index(field)
            if not self.fallible:
                return lambda figures, view: test(figures[index], literal)
            return lambda figures, view: None if figures[index] != figures[index] else test(figures[index], literal)
        if not more and owner == "root" and field in _SPAN_ATTRIBUTES:  # as `SpanFacts` has it ("" without a root)
            get = operator.attrgetter(field)

            def of_root(figures: tuple[Any, ...], view: Any) -> bool | None:
                root = view.root
                return test("" if root is None else get(root), literal)

            return of_root
        operands = self.operands
        low, high = _INT64
        ordering = self.relation in _ORDERING
        if all(owner == "trace" for owner, _ in operands):  # a sum of int `trace` fields
            indexes = [TRACE_ORDER.index(field) for _, field in operands]

            def total(figures: tuple[Any, ...], view: Any) -> bool | None:
                value = sum([figures[index] for index in indexes])
                return test(value, literal) if low <= value <= high else None  # CEL: overflow

            return total

        def value(figures: tuple[Any, ...], view: Any) -> bool | None:
            found = [view.field(owner, field) for owner, field in operands]
            total = found[0] if len(found) == 1 else sum(found)
            if len(found) > 1 and not low <= total <= high:
                return None  # CEL: overflow
            if ordering and total != total:
                return None  # CEL cannot order NaN
            return test(total, literal)

        return value


SCALARS: dict[str, Scalar] = {}  # by name, as `scalar` made them


def lazy(owner: str, field: str) -> str:
    """The variable holding `owner.field` where a `Scalar` is undecided (handed to CEL only then)."""
    return f"__lazy__{owner}_{field}"


def scalar(toks: list[str], index: int) -> tuple[Scalar, int, str] | None:
    """The `Scalar` test starting at `toks[index]` (`trace` or `root`), the index of its last token, and the
    test as written over the `lazy` variables (what CEL evaluates where the test is undecided); else None."""

    def at(position: int) -> str:
        return toks[position] if 0 <= position < len(toks) else ""

    if at(index - 1) not in _BEFORE_RELATION:
        return None
    operands: list[tuple[str, str]] = []
    kinds: set[type] = set()
    position = index
    while True:
        owner = at(position)
        if owner not in _OWNERS or at(position + 1) != "." or not _ident(at(position + 2)):
            return None
        field = at(position + 2)
        kind = _OWNERS[owner].get(field)
        if kind is None:
            return None
        operands.append((owner, field))
        kinds.add(kind)
        position += 3
        if at(position) != "+":
            break
        position += 1
    if len(operands) > 1 and kinds != {int}:
        return None
    (kind,) = kinds
    relation = at(position)
    if relation == "." and at(position + 1) in _METHODS and at(position + 2) == "(" and len(operands) == 1:
        if kind is not str or not plain_string(at(position + 3)) or at(position + 4) != ")":
            return None
        literal: Any = at(position + 3)[1:-1]
        relation, last = at(position + 1), position + 4
    elif relation in _RELATIONS:
        negative = at(position + 1) == "-"
        token = at(position + 2 if negative else position + 1)
        last = position + (2 if negative else 1)
        try:
            if plain_string(token) and not negative:
                literal = token[1:-1]
            elif token in ("true", "false") and not negative:
                literal = token == "true"
            elif token[:1].isdigit() or (token[:1] == "." and token[1:2].isdigit()):
                literal = _number(token, negative)
            else:
                return None
        except (_Reject, ValueError):
            return None
        if type(literal) is not kind or (kind is bool and relation in _ORDERING):
            return None
    else:
        return None
    if at(last + 1) not in _AFTER_RELATION:
        return None
    test = Scalar(tuple(operands), relation, literal)
    SCALARS[test.name] = test
    written = " + ".join(lazy(owner, field) for owner, field in operands)
    rest = toks[position : last + 1]
    return test, last, written + (" " + " ".join(rest) if test.relation in _RELATIONS else "".join(rest))
