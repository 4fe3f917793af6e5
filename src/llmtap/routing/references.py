"""What of the routing variables a set of conditions can read, found from their source at compile time.

Handing a value to CEL costs microseconds per map entry (the `common-expression-language` bindings convert
every key and value on each trace), so the routing thread builds only what the enabled rules can read: the
variables they name, the `trace` fields, the span fields (of `spans` elements and `root`) and the span
`attributes` keys they select. The analysis is conservative: any use it does not recognise as a plain field
selection (`x.field`, `x["field"]`) keeps the whole map, so a condition always sees the same values it would
see with everything built.

Recognised: `trace.f`, `labels.k`, `annotations.k`, `annotation_history.k` (also `x["k"]` and `"k" in x`);
`root.f`, `root.attributes.k`; `spans.M(s, ...)` for the macros `all`, `exists`, `exists_one`, `map`,
`filter` with `s.f` / `s.attributes.k` inside (a `filter` result only under `.size()` / `size(...)`);
`spans.size()`, `size(spans)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

NAMES = frozenset({"trace", "labels", "annotations", "annotation_history", "spans", "root"})
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*)
    |(?P<string>
        (?:[rR][bB]?|[bB][rR])(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"[^"\n]*"|'[^'\n]*')
        |[bB]?(?:\"\"\"(?:\\[\s\S]|[^\\])*?\"\"\"|'''(?:\\[\s\S]|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
    )
    |(?P<number>(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)[uU]?)
    |(?P<ident>[A-Za-z_]\w*)
    |(?P<op>\|\||&&|==|!=|<=|>=|.)
    """,
    re.VERBOSE,
)
_PLAIN_STRING = re.compile(r"""^(?:"[^"\\\n]*"|'[^'\\\n]*')$""")


@dataclass(frozen=True, slots=True)
class Needs:
    """What to build. `None` for a field or key set: all of them."""

    names: frozenset[str] = NAMES
    trace_fields: frozenset[str] | None = None
    label_keys: frozenset[str] | None = None
    annotation_keys: frozenset[str] | None = None
    history_keys: frozenset[str] | None = None  # of `annotation_history`
    span_fields: frozenset[str] | None = None  # of `spans` elements and `root`
    attribute_keys: frozenset[str] | None = None  # of their `attributes`

    def union(self, other: Needs) -> Needs:
        return Needs(
            self.names | other.names,
            *(_union(getattr(self, name), getattr(other, name)) for name in _SETS),
        )


_SETS = ("trace_fields", "label_keys", "annotation_keys", "history_keys", "span_fields", "attribute_keys")
_MAPS = {"trace": 0, "labels": 1, "annotations": 2, "annotation_history": 3}  # top-level maps, by their set
ALL = Needs()
NOTHING = Needs(frozenset(), *(frozenset() for _ in _SETS))
# Around `"key" in map`, tokens that bind no tighter than `in`: the test is exactly "is the key there".
_BEFORE_IN = frozenset({"", "(", "[", ",", "&&", "||", "?", ":"})
_AFTER_IN = frozenset({"", ")", "]", ",", "&&", "||", "?", ":", "==", "!="})


def _union(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    return None if a is None or b is None else a | b


def tokens(source: str) -> list[str]:
    """The tokens of a CEL expression (whitespace and comments dropped); strings keep their quotes."""
    return [match.group() for match in _TOKEN.finditer(source) if match.lastgroup != "space"]


def located(source: str) -> list[tuple[str, int, int]]:
    """`tokens` with each token's start and end offsets in `source`."""
    return [(match.group(), *match.span()) for match in _TOKEN.finditer(source) if match.lastgroup != "space"]


def bracket(toks: list[str], index: int) -> tuple[int, int]:
    """The index of the bracket closing the one at `index` (the last token when unbalanced), and how many
    commas are directly inside (a call's arguments, less one)."""
    depth = commas = 0
    for position in range(index, len(toks)):
        token = toks[position]
        if token in "([{":
            depth += 1
        elif token in ")]}":
            depth -= 1
            if depth == 0:
                return position, commas
        elif token == "," and depth == 1:
            commas += 1
    return len(toks) - 1, commas


def plain_string(token: str) -> bool:
    """A string literal without escapes (its value is what is between the quotes)."""
    return _PLAIN_STRING.match(token) is not None


def _ident(token: str) -> bool:
    return token[:1].isalpha() or token[:1] == "_"


class _Analysis:
    def __init__(self, source: str, names: Iterable[str]) -> None:
        self.toks = tokens(source)
        self.names = frozenset(names) & NAMES
        self.sets: list[set[str] | None] = [set() for _ in _SETS]  # as in `Needs`, after `names`
        self.scopes: list[tuple[frozenset[str], int, int]] = []  # span element variables and their token range
        self.binders: set[int] = set()  # where those variables are bound (`s` in `spans.exists(s, ...)`)

    def at(self, index: int) -> str:
        return self.toks[index] if 0 <= index < len(self.toks) else ""

    def closing(self, index: int) -> int:
        """The index of the bracket closing the one at `index` (the last token when unbalanced)."""
        return bracket(self.toks, index)[0]

    def selected(self, index: int) -> tuple[str, int] | None:
        """The field selected right after the token at `index` (`.f` or `["f"]`, not a method call `.f(`)
        and the index after the selection."""
        if self.at(index + 1) == "." and _ident(self.at(index + 2)) and self.at(index + 3) != "(":
            return self.at(index + 2), index + 2
        if self.at(index + 1) == "[" and plain_string(self.at(index + 2)) and self.at(index + 3) == "]":
            return self.at(index + 2)[1:-1], index + 3
        return None

    def element(self, index: int) -> None:
        """A span map (`root`, or the variable of a macro over `spans`) used at `index`."""
        found = self.selected(index)
        if found is None:
            self.add(4, None)
            return
        field, end = found
        self.add(4, field)
        if field == "attributes":
            key = self.selected(end)
            self.add(5, key[0] if key else self.member(index, end))

    def add(self, which: int, key: str | None) -> None:
        """Key `key` of the map `_SETS[which]` is read (None: the map is used whole)."""
        found = self.sets[which]
        if key is None:
            self.sets[which] = None
        elif found is not None:
            found.add(key)

    def member(self, start: int, end: int) -> str | None:
        """The key of `"key" in <map from start to end>`, else None."""
        at = self.at
        string = at(start - 2)
        if at(start - 1) == "in" and plain_string(string) and at(start - 3) in _BEFORE_IN:
            if at(end + 1) in _AFTER_IN:
                return string[1:-1]
        return None

    def spans(self, index: int) -> None:
        """`spans` used at `index`."""
        at = self.at
        if at(index + 1) == "." and at(index + 2) in _MACROS and at(index + 3) == "(":
            opening = index + 3
            end = self.closing(opening)
            bound = set()
            position = opening + 1
            while _ident(at(position)) and at(position + 1) == ",":  # `s,` (and `i, s,` in two-variable forms)
                bound.add(at(position))
                self.binders.add(position)
                position += 2
            if not bound:
                self.add(4, None)
                return
            self.scopes.append((frozenset(bound), opening, end))
            if at(index + 2) == "filter" and not self.counted(index, end):
                self.add(4, None)  # a list of span maps flows on
            return
        if not self.counted(index, index):
            self.add(4, None)  # the list itself used some other way

    def counted(self, start: int, end: int) -> bool:
        """The list from `start` to `end` only counted: `<list>.size()` or `size(<list>)`."""
        at = self.at
        if at(end + 1) == "." and at(end + 2) == "size" and at(end + 3) == "(" and at(end + 4) == ")":
            return True
        return at(start - 2) == "size" and at(start - 1) == "(" and at(end + 1) == ")"

    def run(self) -> Needs:
        for index, token in enumerate(self.toks):
            if not _ident(token) or self.at(index - 1) == ".":
                continue
            if token in _MAPS:
                found = self.selected(index)
                self.add(_MAPS[token], found[0] if found else self.member(index, index))
            elif token == "root":
                self.element(index)
            elif token == "spans":
                self.spans(index)
        for index, token in enumerate(self.toks):
            if self.at(index - 1) == "." or index in self.binders:
                continue
            if any(token in bound and start < index < end for bound, start, end in self.scopes):
                self.element(index)
        return Needs(self.names, *(None if found is None else frozenset(found) for found in self.sets))


def analyse(source: str, names: Iterable[str]) -> Needs:
    """What the condition `source` can read; `names`: the identifiers it references (`Program.variables()`)."""
    return _Analysis(source, names).run()


def combine(needs: Iterable[Needs]) -> Needs:
    """What any of several conditions can read."""
    total = NOTHING
    for item in needs:
        total = total.union(item)
    return total
