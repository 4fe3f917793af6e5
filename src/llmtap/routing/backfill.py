"""Back-fill: the rules run over traces already in the store (`llmtap routes run`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llmtap.routing.runner import Runner, annotation_facts, facts_of_stored

PAGE = 500  # traces read, evaluated and written (one store transaction) at a time


@dataclass
class Backfill:
    """What a back-fill did: traces seen, each rule's selections, and the actions done or found done already."""

    traces: int
    dry_run: bool
    matched: dict[str, int]
    done: dict[str, int] = field(default_factory=dict)
    already_done: dict[str, int] = field(default_factory=dict)


def backfill(
    runner: Runner,
    store: Any,
    query: Any,
    *,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Backfill:
    """Run `runner`'s rules over the stored traces `query` (a `TraceQuery`) selects, a page at a time.

    Idempotent: a trace enters a queue or dataset once. Exporter actions are not replayed (no SDK spans).
    `progress(done, total)` is called before the first page and after each.
    """
    ids = store.trace_ids(query)
    result = Backfill(len(ids), dry_run, dict.fromkeys((rule.name for rule in runner.rules), 0))
    if progress is not None:
        progress(0, result.traces)
    for start in range(0, result.traces, PAGE):
        page = ids[start : start + PAGE]
        traces = [
            ([facts_of_stored(span) for span in detail.spans], annotation_facts(detail.annotations))
            for detail in store.get_traces(page)
        ]
        for run in runner.run_many(traces, dry_run=dry_run):
            for outcome in run.selected:
                result.matched[outcome.rule.name] += 1
            for label in run.done:
                result.done[label] = result.done.get(label, 0) + 1
            for label in run.skipped:
                result.already_done[label] = result.already_done.get(label, 0) + 1
        if progress is not None:
            progress(start + len(page), result.traces)
    return result
