"""`llmtap traces`: the stored traces, newest first, filtered, a page at a time (a thin shell over `llmtap.store`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from llmtap.cli.common import (
    build_query,
    console,
    json_option,
    opened_store,
    print_json,
    screenful,
    store_option,
    trace_filters,
)

if TYPE_CHECKING:
    from rich.console import Console

    from llmtap.store import TraceSummary


def short_time(iso: str) -> str:
    """`2025-11-27T09:14:03.123456Z` -> `2025-11-27 09:14:03`."""
    return iso[:19].replace("T", " ")


def duration(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


def labels_text(labels: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in sorted(labels.items()))


def render_traces(out: Console, summaries: list[TraceSummary], *, title: str | None = None) -> None:
    """The traces as a table: id, start, root span, duration, models, tokens, labels, error."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", header_style="bold", pad_edge=False, box=None)
    table.add_column("trace", style="cyan", no_wrap=True)
    table.add_column("start (UTC)", no_wrap=True)
    table.add_column("root", no_wrap=True)
    table.add_column("duration", justify="right", no_wrap=True)
    table.add_column("models", no_wrap=True)
    table.add_column("tokens in/out", justify="right", no_wrap=True)
    table.add_column("labels", style="dim", no_wrap=True, overflow="ellipsis")
    table.add_column("", no_wrap=True)
    for summary in summaries:
        data = summary.as_dict()
        table.add_row(
            summary.trace_id[:12],
            short_time(data["start_time"]),
            summary.root_name or "?",
            duration(summary.duration_ms),
            " ".join(summary.models),
            f"{summary.input_tokens}/{summary.output_tokens}",
            labels_text(summary.labels),
            Text("error", style="bold red") if summary.error else Text(""),
        )
    out.print(table)


@click.command()
@trace_filters()
@click.option("--limit", type=click.IntRange(min=1), help="Traces per page (default: a screenful).")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True, help="Which page.")
@store_option
@json_option
def traces(limit: int | None, page: int, store_file: Path | None, as_json: bool, **filters: Any) -> None:
    """The stored traces, newest first.

    \b
    llmtap traces --label prompt_version=v2 --errors
    llmtap traces --search "frame size" --since 2h --json
    """
    limit = limit or screenful()
    query = build_query(filters, limit=limit, offset=(page - 1) * limit)
    with opened_store(store_file) as store:
        found = store.query_traces(query)
        if as_json:
            print_json([summary.as_dict() for summary in found])
            return
        total = store.count_traces(query)
    out = console()
    if not found:
        out.print(f"no traces{' on this page' if total else ''} ({total} match in {store.path})")
        return
    first = query.offset + 1
    render_traces(out, found, title=f"traces {first}-{query.offset + len(found)} of {total}, newest first")
    if query.offset + len(found) < total:
        out.print(f"[dim]next page: llmtap traces --page {page + 1} (same filters)[/dim]")
    out.print("[dim]a trace in full: llmtap show TRACE_ID (a unique prefix is enough)[/dim]")
