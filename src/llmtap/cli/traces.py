"""`llmtap traces`: the stored traces, newest first, filtered, a page at a time (a thin shell over `llmtap.store`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from llmtap.cli.common import (
    build_query,
    console,
    duration,
    json_option,
    labels_text,
    opened_store,
    print_json,
    screenful,
    short_time,
    store_option,
    trace_filters,
)

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    from llmtap.store import TraceSummary


def render_traces(out: Console, summaries: list[TraceSummary], *, title: str | None = None) -> None:
    """Two lines per trace: id (8 digits; a prefix `llmtap show` takes), start, root span, duration, tokens
    in/out, models, error; then its labels. The lines go to the console in one print (each print costs rich a
    fraction of a millisecond): each row's `Text` carries its own no-wrap and ellipsis, the labels wrap."""
    from rich.console import Group
    from rich.text import Text

    rows = [
        (
            summary.trace_id[:8],
            short_time(summary.as_dict()["start_time"]),
            summary.root_name or "?",
            duration(summary.duration_ms),
            f"{summary.input_tokens}/{summary.output_tokens}",
            "error" if summary.error else "",
            " ".join(summary.models),
            labels_text(summary.labels),
        )
        for summary in summaries
    ]
    headers = ("trace", "start (UTC)", "root", "duration", "tokens", "", "models")
    widths = [max(len(header), *(len(row[index]) for row in rows)) for index, header in enumerate(headers)]
    styles = {0: "cyan", 5: "bold red"}

    if title:
        out.print(title)
    lines = []
    for index, row in enumerate([headers, *(row[:-1] for row in rows)]):
        line = Text(style="bold" if index == 0 else "", no_wrap=True, overflow="ellipsis")
        for column, (value, width) in enumerate(zip(row, widths, strict=True)):
            if width:
                line.append(value.rjust(width) if column in (3, 4) else value.ljust(width), styles.get(column))
                line.append("  ")
        line.rstrip()
        lines.append(line)
        if index and rows[index - 1][-1]:
            lines.append(Text(" " * (widths[0] + 2) + rows[index - 1][-1], style="dim"))
    out.print(Group(*lines))


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
        # Counted up to ten pages past this one: an exact total of a common filter on a large store takes seconds.
        cap = query.offset + 10 * limit
        total = store.count_traces(query, at_most=cap + 1)
    of = f"more than {cap}" if total > cap else str(total)
    out = console()
    if not found:
        out.print(f"no traces{' on this page' if total else ''} ({of} match in {store.path})")
        return
    first = query.offset + 1
    render_traces(out, found, title=f"traces {first}-{query.offset + len(found)} of {of}, newest first")
    if query.offset + len(found) < total:
        out.print(f"[dim]next page: llmtap traces --page {page + 1} (same filters)[/dim]")
    out.print("[dim]a trace in full: llmtap show TRACE_ID (a unique prefix is enough)[/dim]")
