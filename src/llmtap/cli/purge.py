"""`llmtap purge --before DATE`: delete old traces from the local store (a thin shell over `llmtap.store`)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from llmtap.cli.common import progress_bar
from llmtap.errors import LlmtapError


@click.command()
@click.option(
    "--before", required=True, help="Delete traces that started before this: 2025-11-01, an ISO time, or 30d."
)
@click.option(
    "--store",
    "store_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Store file (default: LLMTAP_STORE, else .llmtap/llmtap.db).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as a JSON object.")
def purge(before: str, store_file: Path | None, as_json: bool) -> None:
    """Delete every trace that started before DATE, with its spans and annotations."""
    from llmtap.store import open_store, parse_time

    try:
        moment = parse_time(before, "--before")
        store = open_store(store_file, create=False)
        try:
            with progress_bar("purging traces", quiet=as_json) as update:
                result = store.purge(moment, progress=update)
        finally:
            store.close()
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"traces": result.traces, "spans": result.spans, "annotations": result.annotations}))
    else:
        click.echo(
            f"purged {result.traces} trace(s), {result.spans} span(s) and {result.annotations} annotation(s) "
            f"that started before {moment.isoformat()} from {store.path}"
        )
