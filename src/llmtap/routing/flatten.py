"""Conditions rewritten to read small flat CEL variables, and those variables' values for a trace.

Handing a value to CEL (`common-expression-language` 0.10) costs about 2 µs per map key, 3 µs per string
and 2 µs per double, and each change to a context copies all of its variables again; iterating a list
copies each element. So the routing thread (`Runner`) hands CEL as few and as small values as it can,
with conditions rewritten, by token, so that each computes exactly what it computed before:

- `trace.f`, `root.f` (a documented field: always there) read the variable `__trace_f` / `__root_f`, not a
  map (`has(trace.f)` keeps reading the map);
- `size(x)` and `x.size()` of `spans`, `labels`, `annotations`, `annotation_history` read the int `__x_size`;
- `spans.exists(s, ...)` and `spans.all(s, ...)` iterate `__spans_set`: the spans without repeats (the same
  value in every field built), first occurrences in order. Both stop at the first element that decides
  the result (true for `exists`, false for `all`, or an error), and that element is always a first
  occurrence (a repeat decides as its first occurrence did), so the result, error included, is the same.

Anything else is left as it is: a name a macro binds, a field of something else (`x.trace`), strings and
comments. A condition that binds one of the variables' names in a macro, or names anything `__...`, is
not rewritten at all. `llmtap routes test` explains the condition as written, with the full variables.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from llmtap.routing import variables
from llmtap.routing.references import ALL, NAMES, Needs, bracket, located, plain_string
from llmtap.routing.variables import SPAN_FIELDS, TRACE_FIELDS, TraceView

_SIZED = frozenset({"spans", "labels", "annotations", "annotation_history"})
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

    def field(self, index: int) -> tuple[int, str] | None:
        """`trace.f` / `root.f` (or `["f"]`) at `index` with f a documented field, not as `has(x.f)`: the
        last token of the selection and the flat variable's name."""
        at = self.at
        owner = at(index)
        if at(index + 1) == "." and _ident(at(index + 2)) and at(index + 3) != "(":
            name, end = at(index + 2), index + 2
        elif at(index + 1) == "[" and plain_string(at(index + 2)) and at(index + 3) == "]":
            name, end = at(index + 2)[1:-1], index + 3
        else:
            return None
        if name not in _FIELDS[owner]:
            return None
        if at(index - 1) == "(" and at(index - 2) == "has":
            return None  # `has` needs a selection to test
        return end, f"__{owner}_{name}"

    def rewrite(self, needs: Needs) -> str:
        if self.binds_a_variable():
            return self.source
        at = self.at
        edits: list[tuple[int, int, str]] = []  # first token, last token, replacement
        index = 0
        while index < len(self.toks):
            token = self.toks[index]
            found: tuple[int, str] | None = None
            if _ident(token) and at(index - 1) != ".":
                if token in _FIELDS:
                    found = self.field(index)
                elif token == "size" and at(index + 1) == "(" and at(index + 2) in _SIZED and at(index + 3) == ")":
                    found = index + 3, f"__{at(index + 2)}_size"
                elif token in _SIZED and [at(index + n) for n in range(1, 5)] == [".", "size", "(", ")"]:
                    found = index + 4, f"__{token}_size"
                elif token == "spans":
                    iterated = at(index + 1) == "." and at(index + 2) in _ITERATE and at(index + 3) == "("
                    name = _projection(needs, iterated and bracket(self.toks, index + 3)[1] == 1)
                    found = None if name is None else (index, name)
            if found is None:
                index += 1
                continue
            end, replacement = found
            edits.append((index, end, replacement))
            index = end + 1
        text = self.source
        for first, last, replacement in reversed(edits):
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

    @property
    def name(self) -> str:
        what = repr((self.fields, self.attributes, sorted(self.keys) if self.keys is not None else None))
        digest = hashlib.sha256(what.encode()).hexdigest()[:12]
        return f"__spans_{'set' if self.distinct else 'list'}_{digest}"

    def __call__(self, view: TraceView, last: Any = None) -> tuple[list[dict[str, Any]], Any, Any]:
        """The value; a stand-in equal only for values CEL cannot tell apart (to see a change cheaply); and
        what it was made from, to give back as `last` with the next trace: when that is the same, so is the
        value, returned as it was (made again only when it cannot be compared cheaply and exactly)."""
        names = list(self.fields)
        columns = [view.column(field) for field in names]
        floats = [index for index, field in enumerate(names) if field in _DOUBLES]
        made = None
        if not self.attributes and not any(0.0 in columns[index] for index in floats):  # `==` is exact here
            made = columns
            if last is not None and last[2] == made:
                return last
        if self.attributes:
            names.append("attributes")
            columns.append(view.attributes(self.keys))
        rows: list[tuple[Any, ...]] = list(zip(*columns, strict=True)) if columns else [()] * len(view.ordered)
        keys = rows if not (floats or self.attributes) else [_exact(row, floats, self.attributes) for row in rows]
        if self.distinct:
            firsts = dict(zip(keys, rows, strict=True))  # equal keys: equal rows; first occurrences' order
            rows, keys = list(firsts.values()), list(firsts)
        return [dict(zip(names, row, strict=True)) for row in rows], tuple(keys), made


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


def _projection(needs: Needs, distinct: bool) -> str | None:
    if needs.span_fields is None:
        return None
    fields = tuple(name for name in _SPAN_ORDER if name in needs.span_fields)
    projection = Projection(fields, "attributes" in needs.span_fields, needs.attribute_keys, distinct)
    name = projection.name
    _PROJECTIONS[name] = projection
    return name


_SPAN_ORDER = tuple(name for name in variables.FIELD_ORDER if name != "attributes")


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
        self.projections: list[tuple[str, Projection]] = []
        self._last: dict[str, Any] = {}  # each projection's previous result (`Projection.__call__`)
        for name in sorted(set(names)):
            if name in NAMES:
                self.whole.append(name)
            elif name in _PROJECTIONS:
                self.projections.append((name, _PROJECTIONS[name]))
            elif name.startswith("__trace_") and name[8:] in TRACE_FIELDS:
                self.trace.append((name, variables.TRACE_ORDER.index(name[8:])))
            elif name.startswith("__root_") and name[7:] in SPAN_FIELDS:
                self.root.append((name, name[7:]))
            elif name.startswith("__") and name.endswith("_size") and name[2:-5] in _SIZED:
                self.sizes.append((name, name[2:-5]))
            # else: a name a macro binds

    def forget(self) -> None:
        """Drop the previous trace's span projections."""
        self._last.clear()

    @property
    def names(self) -> list[str]:
        pairs = [*self.trace, *self.root, *self.sizes, *self.projections]
        return sorted([*self.whole, *(name for name, _ in pairs)])

    def bind(self, view: TraceView, reuse: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
        """The variables' values, and for some a stand-in to compare instead (`Projection`). `reuse`: give
        back the previous trace's span projections when they are the same (and keep this trace's)."""
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
        for name, sized in self.sizes:
            values[name] = len(view.ordered) if sized == "spans" else len(view.variable(sized, needs))
        last = self._last if reuse else {}
        for name, projection in self.projections:
            made = last[name] = projection(view, last.get(name))
            values[name], keys[name] = made[0], made[1]
        return values, keys
