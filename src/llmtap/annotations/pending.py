"""Pending annotations: those whose target is a join key no known span has matched yet.

A pending annotation is emitted at once with its join key (`llmtap.annotation.join.*`, no span ids), so
the local store or any backend can resolve it, and it is kept in the process's `PendingHolder`. When a
span with that label value starts or ends in this process, the annotation is resolved: it lands on the
span if that is still open, and it is emitted again with the span's trace and span ids and the SAME
`llmtap.annotation.id` (the local store keeps it once, linked). Nothing is dropped: an annotation the
in-memory holder has to let go (it is bounded) was already emitted with its join key.

The local store needs no holder of its own: its log exporter receives the join-key record and keeps the
annotation pending in the database until a span with that label value is stored, across processes
(`llmtap annotations pending` reads it there). `set_holder` is the plug-in point for a durable holder the
application itself should consult (e.g. a shared server database), under this contract:

- `add(annotation)`: keep a pending annotation (target kind `span`, `target.join` set, no span id).
  Called on the application's thread: must be quick and thread-safe, must never raise for a full
  holder (let the oldest go, count it, or persist).
- `lookup(key) -> SpanRef | None`: a span already known to carry the join key's label value (the
  in-memory holder knows none; a store finds it among stored spans), so the annotation resolves at once.
- `take(key) -> list[Annotation]`: remove and return the annotations pending on `key`, oldest first.
- `join_labels() -> frozenset[str]`: the labels of the keys pending now; called for every span while
  anything is pending, so it must be cheap (a cached frozenset).
- `older_than(age, now=None) -> list[Annotation]`: pending annotations created more than `age` ago,
  oldest first (`llmtap annotations pending`).
- `__len__()`: how many are pending.
- `description`: where they are kept, in words (printed by `llmtap annotations pending`).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Protocol

from llmtap.annotations.model import Annotation, JoinKey
from llmtap.refs import SpanRef

logger = logging.getLogger("llmtap")

DEFAULT_CAPACITY = 10_000


class PendingHolder(Protocol):
    description: str

    def add(self, annotation: Annotation) -> None: ...

    def lookup(self, key: JoinKey) -> SpanRef | None: ...

    def take(self, key: JoinKey) -> list[Annotation]: ...

    def join_labels(self) -> frozenset[str]: ...

    def older_than(self, age: timedelta, now: datetime | None = None) -> list[Annotation]: ...

    def __len__(self) -> int: ...


class InMemoryPending:
    """The default holder: bounded (the oldest goes first when full), thread-safe, in this process only."""

    description = "kept in this process's memory"

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity={capacity!r}: expected a whole number >= 1")
        self.capacity = capacity
        self.released = 0  # let go because the holder was full (they had been emitted with their join key)
        self._lock = threading.Lock()
        self._by_id: OrderedDict[str, Annotation] = OrderedDict()
        self._by_key: dict[JoinKey, list[str]] = {}
        self._keys_per_label: dict[str, int] = {}
        self._labels: frozenset[str] = frozenset()

    def add(self, annotation: Annotation) -> None:
        key = annotation.target.join
        if key is None:
            raise ValueError(f"annotation {annotation.id}: only an annotation with a join key can be pending")
        released = None
        with self._lock:
            if len(self._by_id) >= self.capacity:
                released = self._release_oldest()
            self._by_id[annotation.id] = annotation
            ids = self._by_key.setdefault(key, [])
            ids.append(annotation.id)
            if len(ids) == 1:
                self._key_added(key.label)
        if released is not None and self.released == 1:
            logger.warning(
                "llmtap: more than %d annotations are pending on join keys no span has matched; the oldest "
                "ones are no longer kept in this process (each was emitted with its join key; logged once)",
                self.capacity,
            )

    def _release_oldest(self) -> Annotation:
        _, oldest = self._by_id.popitem(last=False)
        self._forget_key(oldest.target.join, oldest.id)  # type: ignore[arg-type]
        self.released += 1
        return oldest

    def _forget_key(self, key: JoinKey, annotation_id: str) -> None:
        ids = self._by_key.get(key)
        if ids is None:
            return
        ids.remove(annotation_id)
        if not ids:
            del self._by_key[key]
            self._key_removed(key.label)

    def _key_added(self, label: str) -> None:
        count = self._keys_per_label.get(label, 0)
        self._keys_per_label[label] = count + 1
        if not count:
            self._labels = self._labels | {label}

    def _key_removed(self, label: str) -> None:
        count = self._keys_per_label[label] - 1
        if count:
            self._keys_per_label[label] = count
        else:
            del self._keys_per_label[label]
            self._labels = self._labels - {label}

    def lookup(self, key: JoinKey) -> SpanRef | None:
        return None

    def take(self, key: JoinKey) -> list[Annotation]:
        with self._lock:
            ids = self._by_key.pop(key, None)
            if ids is None:
                return []
            self._key_removed(key.label)
            return [self._by_id.pop(annotation_id) for annotation_id in ids]

    def join_labels(self) -> frozenset[str]:
        return self._labels

    def older_than(self, age: timedelta, now: datetime | None = None) -> list[Annotation]:
        cutoff = (now or datetime.now(UTC)) - age
        with self._lock:
            return [annotation for annotation in self._by_id.values() if annotation.created_at <= cutoff]

    def __len__(self) -> int:
        return len(self._by_id)


_holder: PendingHolder = InMemoryPending()


def holder() -> PendingHolder:
    """The holder in force (in memory unless the local store installed a durable one)."""
    return _holder


def set_holder(new: PendingHolder | None) -> PendingHolder:
    """Install `new` (None: a fresh in-memory holder); returns the one it replaces."""
    global _holder
    previous, _holder = _holder, (InMemoryPending() if new is None else new)
    return previous


def where() -> str:
    """Where the holder in force keeps pending annotations, in words."""
    return str(getattr(_holder, "description", type(_holder).__name__))


def parse_age(raw: str) -> timedelta:
    """`90s`, `10m`, `2h`, `1d` (or a number of seconds) as a timedelta; ValueError naming the value otherwise."""
    text = raw.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    scale = units.get(text[-1:], None)
    number = text[:-1] if scale is not None else text
    try:
        seconds = float(number) * (scale or 1)
    except ValueError:
        raise ValueError(f"{raw!r}: expected an age such as 90s, 10m, 2h or 1d") from None
    if not 0 <= seconds < 1e9:
        raise ValueError(f"{raw!r}: expected an age such as 90s, 10m, 2h or 1d")
    return timedelta(seconds=seconds)
