"""Conditions rewritten to read small flat CEL variables, and those variables' values for a trace.

Handing a value to CEL (`common-expression-language` 0.10) costs about 2 µs per map key, 3 µs per string
and 2 µs per double, and each change to a context copies all of its variables again; iterating a list
copies each element. So the routing thread (`Runner`) hands CEL as few and as small values as it can,
with conditions rewritten, by token, so that each computes exactly what it computed before:

- `trace.f`, `root.f` (a documented field: always there) read the variable `__trace_f` / `__root_f`, not a
  map (`has(trace.f)` keeps reading the map); compared with a literal of their type (`trace.cost > 0.5`), they
  read one bool computed in Python (`predicates.Scalar`), which changes only when the comparison's outcome does;
- `size(x)` and `x.size()` of `spans`, `labels`, `annotations`, `annotation_history` read the int `__x_size`;
- `spans.exists(s, t)`, `spans.all(s, t)`, `spans.exists_one(s, t)` and `spans.filter(s, t).size()` with a
  simple test `t` (span fields and attributes compared with literals: `predicates`) read one bool or int
  computed in Python, `__spans_pred_...` (with the macro as written as CEL's fallback where the trace's
  attributes do not let Python decide exactly);
- other `spans.exists(s, ...)` and `spans.all(s, ...)` iterate `__spans_set`: the spans without repeats (the same
  value in every field built), first occurrences in order. Both stop at the first element that decides
  the result (true for `exists`, false for `all`, or an error), and that element is always a first
  occurrence (a repeat decides as its first occurrence did), so the result, error included, is the same.

Anything else is left as it is: a name a macro binds, a field of something else (`x.trace`), strings and
comments. A condition that binds one of the variables' names in a macro, or names anything `__...`, is
not rewritten at all. `llmtap routes test` explains the condition as written, with the full variables.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import cel

from llmtap.routing import predicates, variables
from llmtap.routing.references import ALL, NAMES, Needs, bracket, located, plain_string
from llmtap.routing.variables import SPAN_FIELDS, TRACE_FIELDS, TraceView

_SIZED = frozenset({"spans", "labels", "annotations", "annotation_history"})
_KEYED = frozenset({"labels", "annotations", "annotation_history"})  # maps whose keys a trace may lack
_BEFORE_IN = frozenset({"", "(", "[", ",", "&&", "||", "?", ":"})  # as in `references`: `"k" in m` alone
_AFTER_IN = frozenset({"", ")", "]", ",", "&&", "||", "?", ":", "==", "!="})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
KEPT_CONTEXTS = 8  # CEL contexts kept, one per recent set of span projections
EMPTY = "__empty"  # an empty map: `__empty.k` fails as `labels.k` does when the trace has no label k
_ITERATE = frozenset({"exists", "all"})  # macros that stop at the first deciding element
_FIELDS = {"trace": TRACE_FIELDS, "root": SPAN_FIELDS}


def _ident(token: str) -> bool:
    return token[:1].isalpha() or token[:1] == "_"


class _Source:
    def __init__(self, source: str) -> None:
        self.source = source
        self.located = located(source)
        self.toks = [token for token, _, _ in self.located]

    def at(self, index: int) -> str:
        return self.toks[index] if 0 <= index < len(self.toks) else ""

    def binds_a_variable(self) -> bool:
        """A macro (`.m(x, ...)`) binds a routing variable's name, or the source names a `__` identifier."""
        at = self.at
        for index, token in enumerate(self.toks):
            if not _ident(token):
                continue
            if token.startswith("__"):
                return True
            if token in NAMES and at(index - 1) == "(" and at(index + 1) == "," and at(index - 3) == ".":
                return True
        return False

    def selection(self, index: int) -> tuple[str, int] | None:
        """The field selected from the token at `index` (`.f`, not a call `.f(`; or `["f"]`), and the index
        of the selection's last token."""
        at = self.at
        if at(index + 1) == "." and _ident(at(index + 2)) and at(index + 3) != "(":
            return at(index + 2), index + 2
        if at(index + 1) == "[" and plain_string(at(index + 2)) and at(index + 3) == "]":
            return at(index + 2)[1:-1], index + 3
        return None

    def field(self, index: int) -> tuple[int, str] | None:
        """`trace.f` / `root.f` (or `["f"]`) at `index` with f a documented field, not as `has(x.f)`: the
        last token of the selection and the flat variable's name."""
        at = self.at
        owner = at(index)
        selected = self.selection(index)
        if selected is None:
            return None
        name, end = selected
        if name not in _FIELDS[owner]:
            return None
        if at(index - 1) == "(" and at(index - 2) == "has":
            return None  # `has` needs a selection to test
        return end, f"__{owner}_{name}"

    def scalar(self, index: int) -> tuple[int, str] | None:
        """`trace.f < literal` (and the like: `predicates.Scalar`) at `index`: computed in Python, a bool; with
        the test as CEL would evaluate it, over variables handed over only then, where it is undecided."""
        parsed = predicates.scalar(self.toks, index)
        if parsed is None:
            return None
        test, last, written = parsed
        return last, f"({test.decided} ? {test.name} : {written})" if test.fallible else test.name

    def key(self, index: int) -> tuple[int, str] | None:
        """`labels.k` / `labels["k"]` (or of `annotations`, `annotation_history`) at `index`: the value when
        the trace has the key, else the same failure from an empty map."""
        at = self.at
        owner = at(index)
        selected = self.selection(index)
        if selected is None:
            return None
        key, end = selected
        failing = f"{EMPTY}.{key}" if at(index + 1) == "." else f"{EMPTY}[{at(index + 2)}]"
        if not _NAME.fullmatch(key):
            return None
        return end, f"(__has__{owner}__{key} ? __key__{owner}__{key} : {failing})"

    def predicate(self, index: int, counted: bool) -> tuple[int, str] | None:
        """`spans.m(s, test)` at `index` with a simple test (`predicates`): the index of its last token and
        its flat value. `counted`: the argument of `size(...)` at `index - 2` (a `filter`; replaced with it)."""
        at = self.at
        macro = at(index + 2)
        if at(index + 1) != "." or at(index + 3) != "(" or macro not in _PREDICATED or (counted and macro != "filter"):
            return None
        parsed = predicates.parse(self.toks, _PREDICATED[macro], index + 3)
        if parsed is None:
            return None
        predicate, end = parsed
        first = index
        if counted:
            if at(end + 1) != ")":
                return None
            first, end = index - 2, end + 1
        elif macro == "filter":
            if [at(end + n) for n in range(1, 5)] != [".", "size", "(", ")"]:
                return None
            end += 4
        if not predicate.fallible:
            return end, predicate.name
        fallback = _fallback(predicate)
        _PROJECTIONS[fallback.name] = fallback
        located = self.located
        before = self.source[located[first][1] : located[index][1]]  # `size(` or nothing
        after = self.source[located[index][2] : located[end][2]]  # `.m(...)` and what follows, as written
        return end, f"({predicate.decided} ? {predicate.name} : {before}{fallback.name}{after})"

    def spans(self, index: int, needs: Needs, edits: list[tuple[int, int, str]]) -> tuple[int, str] | None:
        """`spans` at `index`, as the projection the condition reads. In a macro (`spans.m(s, body)`), each
        `s.f` of the body reads the span's value `s[i]` of a list (or `s`, when one field is read): lists and
        scalars cost less to hand to CEL and to iterate than maps (`edits` gets those rewritings)."""
        at = self.at
        predicate = self.predicate(index, False)
        if predicate is not None:
            return predicate
        if not (at(index + 1) == "." and _ident(at(index + 2)) and at(index + 3) == "("):
            name = _projection(needs, False, None)
            return None if name is None else (index, name)
        closing, commas = bracket(self.toks, index + 3)
        distinct = at(index + 2) in _ITERATE and commas == 1
        fields = _fields(needs)
        body = self.elements(index + 4, closing, fields) if commas == 1 and fields is not None else None
        name = _projection(needs, distinct, None if body is None else len(fields or ()) == 1)
        if name is None:
            return None
        if body is not None:
            edits.extend(body)
        return index, name

    def elements(self, binder: int, closing: int, fields: tuple[str, ...]) -> list[tuple[int, int, str]] | None:
        """The body of `spans.m(s, body)` (`s` at `binder`, `)` at `closing`) reading each `s.f` as the span's
        `s[i]` in `fields` (or `s` with one field); None when `s` is used otherwise, or bound again."""
        at = self.at
        bound = at(binder)
        if not _ident(bound) or at(binder + 1) != ",":
            return None
        edits: list[tuple[int, int, str]] = []
        for position in range(binder + 2, closing):
            if self.toks[position] != bound or at(position - 1) == ".":
                continue
            if at(position + 1) == "," and at(position - 1) == "(":  # bound again by an inner macro
                return None
            selected = self.selection(position)
            if selected is None:
                return None
            field, end = selected
            if field not in fields:
                return None
            if at(position - 1) == "(" and at(position - 2) == "has":
                if at(end + 1) != ")":
                    return None
                edits.append((position - 2, end + 1, "true"))  # every element has each of its fields
                continue
            edits.append((position, end, bound if len(fields) == 1 else f"{bound}[{fields.index(field)}]"))
        return edits

    def rewrite(self, needs: Needs) -> str:
        if self.binds_a_variable():
            return self.source
        at = self.at
        edits: list[tuple[int, int, str]] = []  # first token, last token, replacement
        index = 0
        while index < len(self.toks):
            token = self.toks[index]
            found: tuple[int, str] | None = None
            if plain_string(token) and at(index + 1) == "in" and at(index + 2) in _KEYED:
                key = token[1:-1]
                if at(index - 1) in _BEFORE_IN and at(index + 3) in _AFTER_IN and _NAME.fullmatch(key):
                    found = index + 2, f"__has__{at(index + 2)}__{key}"
            elif _ident(token) and at(index - 1) != ".":
                if token == "has" and at(index + 1) == "(" and at(index + 2) in _KEYED and at(index + 3) == ".":
                    if _ident(at(index + 4)) and at(index + 5) == ")":
                        found = index + 5, f"__has__{at(index + 2)}__{at(index + 4)}"
                elif token in _KEYED and not (at(index - 1) == "(" and at(index - 2) == "has"):
                    found = self.key(index)
                elif token in _FIELDS:
                    found = self.scalar(index) or self.field(index)
                elif token == "size" and at(index + 1) == "(" and at(index + 2) in _SIZED:
                    if at(index + 3) == ")":
                        found = index + 3, f"__{at(index + 2)}_size"
                    elif at(index + 2) == "spans":
                        found = self.predicate(index + 2, True)  # `size(spans.filter(s, test))`
                elif token in _SIZED and [at(index + n) for n in range(1, 5)] == [".", "size", "(", ")"]:
                    found = index + 4, f"__{token}_size"
                elif token == "spans":
                    found = self.spans(index, needs, edits)
            if found is None:
                index += 1
                continue
            end, replacement = found
            edits.append((index, end, replacement))
            index = end + 1
        text = self.source
        for first, last, replacement in sorted(edits, reverse=True):
            text = text[: self.located[first][1]] + replacement + text[self.located[last][2] :]
        return text


def rewrite(source: str, needs: Needs = ALL) -> str:
    """`source` reading the flat variables where it can (the same source when it cannot); `needs`: what it
    reads (`references.analyse`)."""
    return _Source(source).rewrite(needs)


# --- the values ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """The spans as one condition reads them: only `fields` (and `attributes`, cut to `keys`), and without
    repeats when `distinct`. Named after what it holds, so that conditions reading the same share it."""

    fields: tuple[str, ...]  # span fields other than `attributes`, in `variables` order
    attributes: bool
    keys: frozenset[str] | None  # of `attributes`; None: all
    distinct: bool
    shape: str = "map"  # each span as a map; a "list" of its values (`attributes` last); its one "value"
    lazy: bool = False  # read only where a predicate is undecided (`predicates`): handed to CEL only then

    def __post_init__(self) -> None:
        object.__setattr__(self, "_floats", [i for i, field in enumerate(self.fields) if field in _DOUBLES])

    @property
    def name(self) -> str:
        keys = sorted(self.keys) if self.keys is not None else None
        digest = hashlib.sha256(repr((self.fields, self.attributes, keys, self.shape)).encode()).hexdigest()[:12]
        kind = "fallback" if self.lazy else "set" if self.distinct else "list"
        return f"__spans_{kind}_{digest}"

    def __call__(self, view: TraceView, last: Any = None) -> tuple[list[dict[str, Any]], Any, Any]:
        """The value; a stand-in equal only for values CEL cannot tell apart (to see a change cheaply); and
        what it was made from, to give back as `last` with the next trace: when that is the same, so is the
        value, returned as it was (made again only when it cannot be compared cheaply and exactly)."""
        names = list(self.fields)
        columns = [view.column(field) for field in names]
        floats = self._floats
        made = None
        if not self.attributes:
            made = (len(view.ordered), columns)  # `==` is exact here (each field has one type) but for 0.0, -0.0
            for index in floats:
                if 0.0 in columns[index]:
                    made = None
                    break
            if made is not None and last is not None and last[2] == made:
                return last
        if self.attributes:
            names.append("attributes")
            columns.append(view.attributes(self.keys))
        rows: list[tuple[Any, ...]] = list(zip(*columns, strict=True)) if columns else [()] * len(view.ordered)
        keys = rows if not (floats or self.attributes) else [_exact(row, floats, self.attributes) for row in rows]
        if self.distinct:
            firsts = dict(zip(keys, rows, strict=True))  # equal keys: equal rows; first occurrences' order
            rows, keys = list(firsts.values()), list(firsts)
        if self.shape == "value":
            value: list[Any] = [row[0] for row in rows]
        elif self.shape == "list":
            value = [list(row) for row in rows]
        else:
            value = [dict(zip(names, row, strict=True)) for row in rows]
        return value, tuple(keys), made


_DOUBLES = frozenset({"duration_ms", "cost"})


def _exact(row: tuple[Any, ...], floats: list[int], attributes: bool) -> tuple[Any, ...]:
    key = list(row)
    for index in floats:
        if key[index] == 0.0:
            key[index] = str(key[index])  # 0.0 and -0.0 (each field has one type: no clash with a string)
    if attributes:
        key[-1] = _freeze(key[-1])
    return tuple(key)


def _freeze(value: Any) -> Any:
    """A hashable stand-in for `value`, equal only for values CEL cannot tell apart (types included)."""
    kind = type(value)
    if kind is dict:
        return kind, frozenset((key, _freeze(item)) for key, item in value.items())
    if kind is list:
        return kind, tuple(_freeze(item) for item in value)
    if kind is float and value == 0.0:
        return kind, str(value)  # 0.0 and -0.0
    return kind, value


_PROJECTIONS: dict[str, Projection] = {}  # by name, as `rewrite` made them


def _fields(needs: Needs) -> tuple[str, ...] | None:
    """The span fields a projection for `needs` holds, `attributes` last (None: the whole spans)."""
    if needs.span_fields is None:
        return None
    fields = tuple(name for name in _SPAN_ORDER if name in needs.span_fields)
    return (*fields, "attributes") if "attributes" in needs.span_fields else fields


def _projection(needs: Needs, distinct: bool, single: bool | None) -> str | None:
    """The name of the projection for `needs`: spans as maps (`single` None), lists, or single values."""
    if needs.span_fields is None:
        return None
    fields = tuple(name for name in _SPAN_ORDER if name in needs.span_fields)
    shape = "map" if single is None else "value" if single else "list"
    projection = Projection(fields, "attributes" in needs.span_fields, needs.attribute_keys, distinct, shape)
    name = projection.name
    _PROJECTIONS[name] = projection
    return name


_SPAN_ORDER = tuple(name for name in variables.FIELD_ORDER if name != "attributes")
_PREDICATED = {"exists": "exists", "all": "all", "exists_one": "exists_one", "filter": "count"}


def _fallback(predicate: predicates.Predicate) -> Projection:
    """The spans as a predicate's macro reads them when CEL evaluates it (the trace's attributes do not let
    Python decide exactly): maps of the fields it reads, in order, with repeats; made only then."""
    fields = tuple(name for name in _SPAN_ORDER if name in predicate.fields)
    return Projection(fields, True, predicate.keys, False, lazy=True)


class Binder:
    """The CEL variables of a set of rewritten conditions, computed from a trace: only those the conditions
    reference, each from only what they read (`needs`, built once per trace in a `TraceView`). Not
    thread-safe (it keeps the previous trace's span projections)."""

    def __init__(self, names: Iterable[str], needs: Needs) -> None:
        self.needs = needs
        self.whole: list[str] = []  # documented variables handed over as they are
        self.trace: list[tuple[str, int]] = []  # (variable, index of a `trace` field in `TRACE_ORDER`)
        self.root: list[tuple[str, str]] = []  # (variable, field of `root`)
        self.sizes: list[tuple[str, str]] = []  # (variable, what it is the size of)
        self.keys: list[tuple[str, str, str, bool]] = []  # (variable, map, key, presence rather than value)
        self.empty = False
        self.projections: list[tuple[str, Projection]] = []
        self.scalars: list[predicates.Scalar] = []  # tests of `trace`/`root` fields computed in Python
        self.lazy: list[tuple[str, str, str]] = []  # (variable, owner, field) read where a `Scalar` is undecided
        # Macros computed in Python, each with the spans its macro reads where it is undecided (or None).
        self.predicates: list[tuple[predicates.Predicate, tuple[str, Projection] | None]] = []
        self._last: dict[str, Any] = {}  # each projection's previous result (`Projection.__call__`)
        self._context = cel.Context()
        self._before: dict[str, Any] = {}  # what the context holds, by variable or group of variables
        # Contexts (with their `_before`) by span projections, least recently used first.
        self._kept: dict[tuple[Any, ...], tuple[Any, dict[str, Any]]] = {}
        # The variables `context` handed over anew for the last trace (None: the context is another one, or new).
        self.changed: set[str] | None = None
        for name in sorted(set(names)):
            if name in NAMES:
                self.whole.append(name)
            elif name in predicates.SCALARS:
                self.scalars.append(predicates.SCALARS[name])
            elif name.startswith("__lazy__") and name[8:].partition("_")[0] in ("trace", "root"):
                owner, _, field = name[8:].partition("_")
                self.lazy.append((name, owner, field))
            elif name.startswith("__trace_decided_"):
                pass  # with its `Scalar`
            elif name in predicates.PREDICATES:
                predicate = predicates.PREDICATES[name]
                fallback = _fallback(predicate) if predicate.fallible else None
                self.predicates.append((predicate, None if fallback is None else (fallback.name, fallback)))
            elif name in _PROJECTIONS:
                if not _PROJECTIONS[name].lazy:
                    self.projections.append((name, _PROJECTIONS[name]))
            elif name.startswith("__trace_") and name[8:] in TRACE_FIELDS:
                self.trace.append((name, variables.TRACE_ORDER.index(name[8:])))
            elif name.startswith("__root_") and name[7:] in SPAN_FIELDS:
                self.root.append((name, name[7:]))
            elif name.startswith("__") and name.endswith("_size") and name[2:-5] in _SIZED:
                self.sizes.append((name, name[2:-5]))
            elif name.startswith(("__has__", "__key__")) and name[7:].partition("__")[0] in _KEYED:
                owner, _, key = name[7:].partition("__")
                self.keys.append((name, owner, key, name.startswith("__has__")))
            elif name == EMPTY:
                self.empty = True
            # else: a name a macro binds
        self._scalars = [(test.name, test.decided if test.fallible else None, test.compiled) for test in self.scalars]
        self._scalar_tests = [test.compiled for test in self.scalars]
        self._predicate_values = [predicate.value for predicate, _ in self.predicates]
        read = {field for predicate, _ in self.predicates for field in predicate.fields}
        # Most of the span fields read from attributes are read: read them in one pass (`TraceView`).
        self.together = len(read & set(variables.ATTRIBUTE_STRINGS)) >= 3
        owners = sorted({owner for _, owner, _, _ in self.keys})
        self._keyed = [
            (owner, [(name, key, presence) for name, of, key, presence in self.keys if of == owner]) for owner in owners
        ]

    def forget(self) -> None:
        """Drop what is kept from the previous traces: the next one is handed to CEL whole."""
        self._last.clear()
        self._context = cel.Context()
        self._before = {}
        self._kept.clear()

    def _choose(self, view: TraceView) -> list[tuple[str, Any]]:
        """The span projections of the trace; and, as the context to update, the one kept for the last trace
        with the same projections (the costliest values to convert; a trace stream has few kinds of traces)."""
        last = self._last
        made = []
        for name, projection in self.projections:
            last[name] = projection(view, last.get(name))
            made.append((name, last[name]))
        state = tuple(result[1] for _, result in made)
        kept = self._kept.pop(state, None)
        if kept is None:
            kept = (cel.Context(), {})
            if len(self._kept) >= KEPT_CONTEXTS:
                del self._kept[next(iter(self._kept))]  # the least recently used
            for name, result in made:
                kept[0].add_variable(name, result[0])
        self._kept[state] = kept
        self._context, self._before = kept
        return made

    def context(self, view: TraceView) -> Any:
        """The CEL context holding the variables of the trace of `view`. It is the one kept from the previous
        trace, with only what changed since handed to CEL again (converting a value costs microseconds, and
        each change to a context converts all of its variables again, on the next evaluation): a group of
        variables (the `trace` fields, the keys of one map) is looked at one by one only when it changed."""
        needs = self.needs
        previous = self._context
        if self.projections:
            self._choose(view)
        context = self._context
        before = self._before
        changed: set[str] | None = set() if context is previous and before else None
        self.changed = changed
        hand = context.add_variable

        def add(name: str, value: Any) -> None:
            hand(name, value)
            if changed is not None:
                changed.add(name)

        for name in self.whole:
            value = view.variable(name, needs)
            if name not in before or not same(before[name], value):
                add(name, value)
                before[name] = value
        if self.trace:
            figures = view.figures()  # each field has one type: `!=` tells them apart, but for 0.0 and -0.0
            old = before.get(" trace")
            for name, index in self.trace:
                value = figures[index]
                if old is None or old[index] != value or (value == 0.0 and str(old[index]) != str(value)):
                    add(name, value)
            before[" trace"] = figures
        if self.root:
            old = before.get(" root")
            fields = []
            for position, (name, field) in enumerate(self.root):
                value = view.root_field(field, needs)
                fields.append(value)
                if old is None or not same(old[position], value):
                    add(name, value)
            before[" root"] = fields
        undecided = False
        if self.scalars:
            figures = view.figures()
            values = [test(figures, view) for test in self._scalar_tests]  # bools, or None: undecided
            if values == before.get(" scalars"):  # the same (each a bool or None): nothing to hand over
                undecided = None in values
            else:
                undecided = self._hand_scalars(values, before, add)
                before[" scalars"] = values
        if undecided:
            for name, owner, field in self.lazy:
                value = view.field(owner, field)
                if name not in before or not same(before[name], value):
                    add(name, value)
                    before[name] = value
        for owner, keyed in self._keyed:
            mapping = view.variable(owner, needs)
            group = f" {owner}"  # not a variable's name
            old = before.get(group)
            if old is None or not same(old, mapping):
                for name, key, presence in keyed:
                    if presence:
                        value = key in mapping
                        if before.get(name) is not value:
                            add(name, value)
                            before[name] = value
                    elif key in mapping:  # a missing key's value is never read (`__has__...` guards it)
                        value = mapping[key]
                        if name not in before or not same(before[name], value):
                            add(name, value)
                            before[name] = value
                before[group] = mapping
        if self.empty and EMPTY not in before:
            add(EMPTY, {})
            before[EMPTY] = {}
        if self.predicates:
            values = [value(view) for value in self._predicate_values]  # one type per macro; None: undecided
            if values != before.get(" predicates") or None in values:
                self._hand_predicates(view, values, before, add)
                before[" predicates"] = values
        for name, sized in self.sizes:
            value = len(view.ordered) if sized == "spans" else len(view.variable(sized, needs))
            if before.get(name) != value:
                add(name, value)
                before[name] = value
        return self._context

    def _hand_scalars(self, values: list[bool | None], before: dict[str, Any], add: Any) -> bool:
        """Hand over the `Scalar` values that changed; whether any is undecided."""
        undecided = False
        for (name, decided_name, _), value in zip(self._scalars, values, strict=True):
            if decided_name is not None:
                decided = value is not None
                if before.get(decided_name) is not decided:
                    add(decided_name, decided)
                    before[decided_name] = decided
                if value is None:
                    undecided = True
                    continue
            if before.get(name) is not value:  # a bool
                add(name, value)
                before[name] = value
        return undecided

    def _hand_predicates(self, view: TraceView, values: list[Any], before: dict[str, Any], add: Any) -> None:
        """Hand over the predicate values that changed, and the spans of those undecided."""
        for (predicate, fallback), value in zip(self.predicates, values, strict=True):
            if fallback is not None:
                decided = value is not None
                name = predicate.decided
                if before.get(name) is not decided:
                    add(name, decided)
                    before[name] = decided
                if value is None:
                    name, projection = fallback
                    made, key, _ = projection(view)
                    if name not in before or before[name] != key:
                        add(name, made)
                        before[name] = key
                    continue
            name = predicate.name
            if name not in before or before[name] != value:  # a bool, or an int count: one type per name
                add(name, value)
                before[name] = value

    @property
    def names(self) -> list[str]:
        pairs = [*self.trace, *self.root, *self.sizes, *self.projections]
        names = [*self.whole, *(name for name, _ in pairs), *(name for name, *_ in self.keys)]
        for test in self.scalars:
            names.extend((test.name, test.decided) if test.fallible else (test.name,))
        names.extend(name for name, _, _ in self.lazy)
        for predicate, fallback in self.predicates:
            names.append(predicate.name)
            if fallback is not None:
                names.extend((predicate.decided, fallback[0]))
        return sorted([*names, EMPTY] if self.empty else names)

    def bind(self, view: TraceView, reuse: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
        """The variables' values (what `context` holds), and for some a stand-in to compare instead
        (`Projection`). `reuse`: give back the previous trace's span projections when they are the same."""
        needs = self.needs
        values: dict[str, Any] = {}
        keys: dict[str, Any] = {}
        for name in self.whole:
            values[name] = view.variable(name, needs)
        if self.trace:
            figures = view.figures()
            for name, index in self.trace:
                values[name] = figures[index]
        for name, field in self.root:
            values[name] = view.root_field(field, needs)
        for owner, keyed in self._keyed:
            mapping = view.variable(owner, needs)
            for name, key, presence in keyed:
                values[name] = key in mapping if presence else mapping.get(key)
        if self.empty:
            values[EMPTY] = {}
        for name, sized in self.sizes:
            values[name] = len(view.ordered) if sized == "spans" else len(view.variable(sized, needs))
        undecided = False
        figures = view.figures() if self.scalars else ()
        for name, decided_name, test in self._scalars:
            value = test(figures, view)
            if decided_name is not None:
                values[decided_name] = value is not None
                undecided = undecided or value is None
            values[name] = bool(value)  # not read where undecided
        if undecided:  # what CEL reads where a scalar is undecided
            for name, owner, field in self.lazy:
                values[name] = view.field(owner, field)
        for predicate, fallback in self.predicates:
            value = predicate(view)
            if fallback is not None:
                values[predicate.decided] = value is not None
                if value is None:
                    values[fallback[0]] = fallback[1](view)[0]
                    value = 0 if predicate.macro == "count" else False  # not read
            values[predicate.name] = value
        last = self._last if reuse else {}
        for name, projection in self.projections:
            made = last[name] = projection(view, last.get(name))
            values[name], keys[name] = made[0], made[1]
        return values, keys


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (`1 == True == 1.0` in Python, not in CEL; nor are
    0.0 and -0.0 the same to CEL: `1.0 / x`)."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind in _PLAIN:
        return bool(a == b)
    if kind is float:
        return a == b and (a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b))
    if kind is dict:
        if a.keys() != b.keys():
            return False
        for key, value in a.items():
            if not same(value, b[key]):
                return False
        return True
    if kind is list:
        if len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            if not same(x, y):
                return False
        return True
    return bool(a == b)


_PLAIN = frozenset({str, int, bool, type(None), bytes})  # `==` tells their values apart exactly
