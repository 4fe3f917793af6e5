"""`llmtap.frozen.frozen_record` behaves as `@dataclass(frozen=True)` on the same class: construction, defaults and
default factories, `__post_init__`, equality, hash, repr, immutability, and the `dataclasses` functions."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import dataclass, field
from typing import Any

import pytest

from llmtap.frozen import frozen_record
from llmtap.store.api import TraceQuery, TraceSummary
from llmtap.store.detail import StoredSpan, TraceDetail


def _body() -> dict[str, Any]:
    return {
        "__annotations__": {"name": "str", "count": "int", "tags": "dict[str, str]", "note": "str | None"},
        "count": 0,
        "tags": field(default_factory=dict),
        "note": field(default=None, compare=False, repr=False),
        "__module__": __name__,
        "__qualname__": "Item",
    }


Generated = dataclass(frozen=True)(type("Item", (), _body()))
Shared = frozen_record(type("Item", (), _body()))


@dataclass(frozen=True)
class OtherGenerated:
    name: str


def test_construction_defaults_and_factories() -> None:
    for cls in (Generated, Shared):
        first, second = cls("a"), cls("a")
        assert (first.name, first.count, first.tags, first.note) == ("a", 0, {}, None)
        assert first.tags is not second.tags  # a fresh dict each
        assert vars(cls("b", 2, {"k": "v"}, note="n")) == {"name": "b", "count": 2, "tags": {"k": "v"}, "note": "n"}
        assert vars(cls(count=3, name="c")) == {"name": "c", "count": 3, "tags": {}, "note": None}
        assert dataclasses.is_dataclass(cls)
        assert [item.name for item in dataclasses.fields(cls)] == ["name", "count", "tags", "note"]


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [
        ((), {}, ["missing", "'name'"]),
        (("a", 1, {}, None, "extra"), {}, ["positional arguments but 6 were given"]),
        (("a",), {"colour": "red"}, ["unexpected keyword argument 'colour'"]),
        (("a",), {"name": "b"}, ["multiple values for argument 'name'"]),
    ],
)
def test_wrong_arguments_are_type_errors_naming_them(args: tuple, kwargs: dict, words: list[str]) -> None:
    for cls in (Generated, Shared):
        with pytest.raises(TypeError) as caught:
            cls(*args, **kwargs)
        assert all(word in str(caught.value) for word in words), (cls, str(caught.value))


def test_equality_hash_and_repr() -> None:
    for cls in (Generated, Shared):
        item = cls("a", 1, note="x")
        assert item == cls("a", 1, note="y")  # `note` is not compared
        assert item != cls("a", 2)
        assert item != OtherGenerated("a")  # another class: never equal
        assert (item == "a") is False
        assert hash(cls("a", 1, tags=())) == hash(cls("a", 1, tags=(), note="z")) == hash(("a", 1, ()))
        with pytest.raises(TypeError, match="unhashable type: 'dict'"):
            hash(item)
    assert repr(Shared("a", 1, {"k": "v"}, "n")) == repr(Generated("a", 1, {"k": "v"}, "n"))
    assert repr(Shared("a")) == "Item(name='a', count=0, tags={})"


def test_frozen() -> None:
    for cls in (Generated, Shared):
        item = cls("a")
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'name'"):
            item.name = "b"
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'other'"):
            item.other = 1
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'count'"):
            del item.count
        assert item.name == "a"


def test_replace_asdict_copy_and_pickle() -> None:
    item = Shared("a", 1, {"k": "v"})
    assert dataclasses.replace(item, count=5) == Shared("a", 5, {"k": "v"})
    assert dataclasses.asdict(item) == {"name": "a", "count": 1, "tags": {"k": "v"}, "note": None}
    assert copy.deepcopy(item) == item
    assert copy.copy(item) == item


def test_post_init_runs_after_the_fields_are_set() -> None:
    seen = []

    @frozen_record
    class Checked:
        value: int

        def __post_init__(self) -> None:
            seen.append(self.value)

    Checked(7)
    assert seen == [7]


def test_the_store_records_are_frozen_records() -> None:
    query = TraceQuery(search="refund")
    assert (query.labels, query.limit, query.offset) == ({}, 50, 0)
    assert dataclasses.replace(query, limit=10) == TraceQuery(search="refund", limit=10)
    summary = TraceSummary("t" * 32, "root", "s" * 16, 1, 3_000_001, 2, 1, 10, 5, False, {"k": "v"}, ["m"], ["p"])
    span = StoredSpan("t" * 32, "s" * 16, None, "root", "INTERNAL", 1, 2, "UNSET", None, {}, [], [], {}, {})
    detail = TraceDetail(summary, [span], [])
    assert detail.trace_id == "t" * 32
    assert summary.duration_ms == 3.0
    assert pickle.loads(pickle.dumps(detail)) == detail
    with pytest.raises(dataclasses.FrozenInstanceError):
        span.name = "other"  # type: ignore[misc]
