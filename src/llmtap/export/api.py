"""`export()`: the traces of a queue, a dataset or a trace filter written as JSON lines of one format."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from llmtap.config import Settings
from llmtap.errors import LlmtapError
from llmtap.export.rows import FORMATS, Exported, row
from llmtap.store.api import Store, TraceQuery

PROVENANCE = ("row", "none")
_PAGE = 500


class ExportError(LlmtapError, ValueError):
    """An export was asked for with a bad format, source or option."""


@dataclass(frozen=True)
class Source:
    """What to export: the completed items of a review queue, a dataset, or the traces matching a query."""

    queue: str | None = None
    dataset: str | None = None
    query: TraceQuery | None = None

    def describe(self) -> str:
        if self.queue is not None:
            return f"queue {self.queue}"
        if self.dataset is not None:
            return f"dataset {self.dataset}"
        return "trace filter"


@dataclass
class ExportSummary:
    format: str
    source: str
    output: str
    traces: int = 0
    rows: int = 0
    skipped: int = 0  # traces with no row in this format (no captured model call; preference: no correction)
    by_reason: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "source": self.source,
            "output": self.output,
            "traces": self.traces,
            "rows": self.rows,
            "skipped": self.skipped,
        }


def trace_ids(store: Store, source: Source, settings: Settings | None = None) -> list[str]:
    """The trace ids of the source, oldest first for queues and datasets, newest first for a query.

    A queue's completed items: completed by as many reviewers as the queue declared in `settings` (default: the
    settings in force) asks for."""
    given = [name for name in (source.queue, source.dataset, source.query) if name is not None]
    if len(given) != 1:
        raise ExportError("expected exactly one source: a queue, a dataset or a trace filter")
    if source.queue is not None:
        reviewers = _queue_reviewers(source.queue, settings)
        return [
            item.trace_id
            for item in store.queue_items(source.queue, now_ns=time.time_ns(), reviewers=reviewers)
            if item.state == "completed"
        ]
    if source.dataset is not None:
        ids = list(dict.fromkeys(trace_id for trace_id, _span, _data in store.dataset_items(source.dataset)))
        if not ids:
            _check_dataset(store, source.dataset, settings)
        return ids
    return store.trace_ids(source.query)


def _check_dataset(store: Store, name: str, settings: Settings | None) -> None:
    """An empty dataset is one the store knows or a route of `settings` adds to; any other name is a mistake."""
    from llmtap import runtime

    settings = settings if settings is not None else runtime.current_settings()
    routed = {
        str(action)[len("dataset:") :]
        for rule in settings.tables.get("routes") or ()
        if isinstance(rule, dict)
        for action in rule.get("actions") or ()
        if str(action).startswith("dataset:")
    }
    known = sorted(set(store.dataset_names()) | routed)
    if name not in known:
        raise ExportError(
            f"dataset {name!r}: no trace was added to it and no route adds to it; expected one of: "
            f"{', '.join(known) or 'none exist yet'}"
        )


def _queue_reviewers(name: str, settings: Settings | None) -> int:
    from llmtap import runtime
    from llmtap.review.config import parse_queues

    settings = settings if settings is not None else runtime.current_settings()
    queue = parse_queues(settings.tables.get("queues"), settings.source).get(name)
    if queue is None:
        known = ", ".join(sorted(settings.tables.get("queues") or {})) or "none are declared"
        raise ExportError(f"queue {name!r}: not declared in [tool.llmtap.queues]; expected one of: {known}")
    return queue.reviewers


def rows(store: Store, ids: list[str], fmt: str, model: str | None = None) -> Iterator[Exported | None]:
    """The row of each trace (None where the trace has no row in this format, or no call of `model`)."""
    if fmt not in FORMATS:
        raise ExportError(f"format={fmt!r}: expected one of {', '.join(FORMATS)}")
    for start in range(0, len(ids), _PAGE):  # read a page of traces at a time, not one by one
        page = ids[start : start + _PAGE]
        found = {detail.trace_id: detail for detail in store.get_traces(page)}
        for trace_id in page:
            detail = found.get(trace_id)
            yield None if detail is None else row(detail, fmt, model)  # None also for a trace purged meanwhile


def export(
    store: Store,
    source: Source,
    fmt: str,
    output: TextIO | Path,
    *,
    provenance: str = "row",
    provenance_file: TextIO | None = None,
    progress: Callable[[int, int], None] | None = None,
    model: str | None = None,
    settings: Settings | None = None,
) -> ExportSummary:
    """Write one JSON line per exported trace to `output`; `progress(done, total)` after each trace.

    `model`: the row is made from the trace's last call of this model (request or response model name) rather
    than its last model call, for traces that call several models (an answer, then a summary by another).

    `settings`: where a queue source is declared (default: the settings in force: `llmtap.instrument()`'s, else
    the environment's and the config file's).

    `provenance`: `row` (an `llmtap` key in every row) or `none`; with `provenance_file`, the provenance of
    each row is written there instead, line for line.
    """
    if provenance not in PROVENANCE:
        raise ExportError(f"provenance={provenance!r}: expected one of {', '.join(PROVENANCE)}")
    if fmt not in FORMATS:
        raise ExportError(f"format={fmt!r}: expected one of {', '.join(FORMATS)}")
    ids = trace_ids(store, source, settings)
    name = str(output) if isinstance(output, Path) else getattr(output, "name", "-")
    summary = ExportSummary(fmt, source.describe(), name, traces=len(ids))
    handle = output.open("w", encoding="utf-8") if isinstance(output, Path) else output
    try:
        for done, exported in enumerate(rows(store, ids, fmt, model), 1):
            if exported is None:
                summary.skipped += 1
            else:
                line = dict(exported.row)
                if provenance == "row" and provenance_file is None:
                    line["llmtap"] = exported.provenance
                elif provenance_file is not None:
                    provenance_file.write(json.dumps(exported.provenance, ensure_ascii=False) + "\n")
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
                summary.rows += 1
            if progress is not None:
                progress(done, len(ids))
    finally:
        if isinstance(output, Path):
            handle.close()
    return summary
