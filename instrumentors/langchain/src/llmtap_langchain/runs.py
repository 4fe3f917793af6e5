"""The open LangChain runs the handler tracks, by run id: every run opened here ends.

LangChain does not always report a run's end: a consumer that stops `astream_events(...)` early
leaves inner runs (an output parser, the model) started and never ended or errored. So a run's open
descendants are handed back when it ends (`pop`), for the handler to end them first, and the registry
is bounded: past `MAX_OPEN_RUNS`, the oldest open run (and its descendants) is handed back too
(`add`). Nothing stays open, and the registry's size stays flat, whatever LangChain reports.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from opentelemetry.trace import Span

from llmtap.invocation import Invocation
from llmtap.layers import ModelLayer

# Far above the runs one process has open at once (each concurrent chain holds a handful).
MAX_OPEN_RUNS = 10_000


@dataclass(slots=True)
class Run:
    step_span: Span | None  # a non-model run's span; a model run's span is its invocation's
    invocation: Invocation | None = None  # model runs only
    agent: str | None = None
    parent_id: UUID | None = None
    run_id: UUID | None = None  # set when registered
    children: set[UUID] = field(default_factory=set)
    first_token: float | None = None
    # A model stream no SDK span covers: its chunks so far, for when LangChain never reports its end.
    chunks: list[Any] | None = None
    streaming: bool = False  # model runs started by `stream()` / `astream()`
    outcome: str | None = None  # a stream the consumer stopped: abandoned or cancelled

    @property
    def span(self) -> Span:
        """The run's span: a model run's deferred span is started now (`llmtap.layers`)."""
        if self.invocation is not None:
            return self.invocation.span
        assert self.step_span is not None
        return self.step_span

    @property
    def context_span(self) -> Span:
        """The span current while the run's own code runs (a model run's parent, until it has a span)."""
        if self.invocation is not None:
            return self.invocation.context_span
        assert self.step_span is not None
        return self.step_span

    @property
    def layer(self) -> ModelLayer | None:
        return self.invocation.layer if self.invocation is not None else None


Ended = list[Run]


class Runs:
    __slots__ = ("_lock", "_runs", "limit")

    def __init__(self, limit: int = MAX_OPEN_RUNS) -> None:
        self._runs: dict[UUID, Run] = {}
        self._lock = threading.Lock()
        self.limit = limit

    def __len__(self) -> int:
        return len(self._runs)

    def get(self, run_id: UUID | None) -> Run | None:
        return self._runs.get(run_id) if run_id is not None else None

    def add(self, run_id: UUID, run: Run) -> Ended:
        """Register `run`; returns the runs evicted to stay within `limit` (oldest first, then its
        descendants, deepest first), for the caller to end."""
        evicted: Ended = []
        run.run_id = run_id
        with self._lock:
            self._runs[run_id] = run
            parent = self._runs.get(run.parent_id) if run.parent_id is not None else None
            if parent is not None:
                parent.children.add(run_id)
            while len(self._runs) > self.limit:
                oldest = next(iter(self._runs))
                evicted.extend(self._pop(oldest))
        return evicted

    def pop(self, run_id: UUID) -> Ended:
        """Unregister a run that ends and its open descendants: the descendants first (deepest first),
        the run itself last; empty if it is not open."""
        with self._lock:
            return self._pop(run_id)

    def _pop(self, run_id: UUID) -> Ended:
        run = self._runs.pop(run_id, None)
        if run is None:
            return []
        parent = self._runs.get(run.parent_id) if run.parent_id is not None else None
        if parent is not None:
            parent.children.discard(run_id)
        ended: Ended = [run]  # each run before its descendants (no recursion, whatever the depth); reversed below
        pending = list(run.children)
        while pending:
            child = self._runs.pop(pending.pop(), None)
            if child is not None:
                ended.append(child)
                pending.extend(child.children)
        ended.reverse()
        return ended
