"""`llmtap export`: a queue, a dataset or a trace filter as JSON lines (a thin shell over `llmtap.export`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from llmtap.cli.common import _pairs, json_option, progress_bar, store_option
from llmtap.errors import LlmtapError


@click.command()
@click.option("--queue", "queue_name", help="The completed items of this review queue.")
@click.option("--dataset", help="The items of this dataset.")
@click.option("--label", "labels", multiple=True, help="Traces with this label (key=value; repeatable).")
@click.option("--annotation", "annotations", multiple=True, help="Traces with this annotation (name=value).")
@click.option("--since", help="Traces that started since: 2025-11-01, an ISO time, or 30d.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["chat", "eval", "preference"]),
    default="chat",
    show_default=True,
    help="chat: OpenAI fine-tuning chat rows; eval: inputs, output, expected output, labels, annotations; "
    "preference: OpenAI DPO pairs from corrections.",
)
@click.option(
    "--model",
    help="Make each row from the trace's last call of this model (request or response model), not its last call.",
)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="JSONL file (default, or -: stdout).")
@click.option(
    "--provenance",
    type=click.Choice(["row", "file", "none"]),
    default="row",
    show_default=True,
    help="row: an `llmtap` key in each row; file: OUTPUT.provenance.jsonl, line for line; none: left out.",
)
@store_option
@json_option
def export(
    queue_name: str | None,
    dataset: str | None,
    labels: tuple[str, ...],
    annotations: tuple[str, ...],
    since: str | None,
    fmt: str,
    model: str | None,
    output: Path | None,
    provenance: str,
    store_file: Path | None,
    as_json: bool,
) -> None:
    """Export reviewed traces as JSON lines for fine-tuning or evaluation."""
    from llmtap.export import Source
    from llmtap.export import export as run
    from llmtap.store import TraceQuery, open_store, parse_time

    if output is not None and str(output) == "-":  # the usual spelling of stdout
        output = None
    filtered = bool(labels or annotations or since)
    if sum((queue_name is not None, dataset is not None, filtered)) != 1:
        raise click.UsageError(
            "expected one source: --queue NAME, --dataset NAME, or a filter (--label, --annotation, --since)"
        )
    if provenance == "file" and output is None:
        raise click.UsageError("--provenance file needs --output FILE (the provenance goes to FILE.provenance.jsonl)")
    try:
        query = None
        if filtered:
            query = TraceQuery(
                labels=_pairs(labels, "--label"),
                annotations=_pairs(annotations, "--annotation"),
                since=parse_time(since, "--since") if since else None,
            )
        source = Source(queue=queue_name, dataset=dataset, query=query)
        store = open_store(store_file, create=False)
        side = (
            output.with_name(output.name + ".provenance.jsonl").open("w", encoding="utf-8")
            if provenance == "file"
            else None
        )
        try:
            # With the rows on stdout the bar is still on stderr: only --json (its summary on stderr) turns it off.
            with progress_bar("exporting", quiet=as_json) as update:
                summary = run(
                    store,
                    source,
                    fmt,
                    output if output is not None else sys.stdout,
                    provenance="none" if provenance == "none" else "row",
                    provenance_file=side,
                    progress=update,
                    model=model,
                )
        finally:
            store.close()
            if side is not None:
                side.close()
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(summary.as_dict()), err=output is None)
    else:
        click.echo(
            f"exported {summary.rows} {fmt} row(s) from {summary.traces} trace(s) of the {summary.source} "
            f"to {summary.output}" + (f"; {summary.skipped} without a row in this format" if summary.skipped else ""),
            err=output is None,
        )
