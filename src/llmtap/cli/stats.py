"""`llmtap stats`: model calls, tokens, errors and latency by model, provider or label; with `--annotation`,
the annotation's outcomes per label group with 95% confidence intervals (a thin shell over `llmtap.stats`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from llmtap.cli.common import (
    build_query,
    console,
    counted,
    json_option,
    opened_store,
    print_json,
    progress_bar,
    store_option,
    trace_filters,
)
from llmtap.errors import LlmtapError

if TYPE_CHECKING:
    from rich.console import Console

    from llmtap.stats import AnnotationGroup, CallGroup


def _ms(value: float) -> str:
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _usd(cost: float | None, priced: int, calls: int) -> str:
    """The group's cost; `*` when some of its calls had no price (the sum covers the priced ones)."""
    if cost is None:
        return "-"
    return f"{cost:.6f}" + ("*" if priced < calls else "")


def _percent(value: float) -> str:
    return f"{100 * value:.0f}%"


def render_calls(out: Console, by: str, groups: list[CallGroup]) -> None:
    from rich.table import Table

    out.print(f"model calls by {by}")
    table = Table(header_style="bold", box=None, pad_edge=False)
    table.add_column(by, style="cyan")
    for column in ("calls", "tokens in", "tokens out", "cost $", "errors", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column, justify="right")
    for group in groups:
        errors = f"{group.errors} ({_percent(group.errors / group.calls)})" if group.errors else "0"
        table.add_row(
            str(group.key) if group.key is not None else "(none)",
            str(group.calls),
            str(group.input_tokens),
            str(group.output_tokens),
            _usd(group.cost, group.priced_calls, group.calls),
            f"[red]{errors}[/red]" if group.errors else errors,
            _ms(group.p50_ms),
            _ms(group.p95_ms),
            _ms(group.p99_ms),
        )
    out.print(table)
    if any(group.cost is not None and group.priced_calls < group.calls for group in groups):
        out.print("* cost of the priced calls only: the group has calls with no known price or usage")


def render_annotations(out: Console, name: str, by: str, kind: str, groups: list[AnnotationGroup]) -> None:
    from rich.table import Table

    what = "mean score, t 95% CI" if kind == "numeric" else "share of each value, Wilson 95% CI"
    out.print(f"annotation {name} by {by} ({what})")
    table = Table(header_style="bold", box=None, pad_edge=False)
    table.add_column(by, style="cyan")
    table.add_column("n", justify="right")
    if kind == "numeric":
        table.add_column("mean", justify="right")
        table.add_column("95% CI", justify="right")
    else:
        for share in groups[0].shares if groups else []:
            table.add_column(share.value)
    for group in groups:
        cells = [str(group.key) if group.key is not None else "(none)", str(group.count)]
        if kind == "numeric":
            ci = group.mean_ci
            cells += [f"{group.mean:.3g}", f"{ci[0]:.3g} to {ci[1]:.3g}" if ci else "n < 2"]
        else:
            cells += [
                f"{_percent(s.share)} ({s.count}) [dim]\\[{_percent(s.low)}, {_percent(s.high)}][/dim]"
                for s in group.shares
            ]
        table.add_row(*cells)
    out.print(table)


@click.command()
@click.option("--by", default="model", show_default=True, help="Group by model, provider or label.KEY.")
@click.option("--annotation", "annotation_name", metavar="NAME", help="Outcomes of this annotation per label group.")
@trace_filters("--annotated")
@store_option
@json_option
def stats(by: str, annotation_name: str | None, store_file: Path | None, as_json: bool, **filters: Any) -> None:
    """Calls, tokens, errors and latency p50/p95/p99 per group; with --annotation NAME, the share of each value
    (or the mean score) per group, with 95% confidence intervals.

    \b
    llmtap stats --by provider
    llmtap stats --by label.prompt_version --annotation user_feedback
    """
    from llmtap import stats as analysis

    query = build_query(filters)
    try:
        with opened_store(store_file) as store, progress_bar("reading model calls", quiet=as_json) as update:
            groups = analysis.call_groups(counted(store.model_calls(query), update), by)
            outcome = None
            if annotation_name:
                update(0, None)
                annotated = counted(store.annotated_traces(annotation_name, query), update)
                outcome = analysis.annotation_groups(annotated, by)
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        data: dict[str, Any] = {"by": by, "groups": [group.as_dict() for group in groups]}
        if outcome is not None:
            kind, annotation_groups = outcome
            data["annotation"] = {
                "name": annotation_name,
                "kind": kind,
                "groups": [group.as_dict() for group in annotation_groups],
            }
        print_json(data)
        return
    out = console()
    render_calls(out, by, groups)
    if outcome is not None:
        out.print()
        kind, annotation_groups = outcome
        if annotation_groups:
            render_annotations(out, annotation_name, by, kind, annotation_groups)
        else:
            out.print(f"no annotation {annotation_name!r} on the matching traces")
