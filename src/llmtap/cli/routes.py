"""`llmtap routes check | test TRACE_ID | run --since DATE`: a thin shell over `llmtap.routing`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from llmtap.cli.common import progress_bar
from llmtap.errors import LlmtapError

_STORE = click.option(
    "--store",
    "store_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Store file (default: LLMTAP_STORE, else .llmtap/llmtap.db).",
)
_CONFIG = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="TOML file to read."
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group()
def routes() -> None:
    """Routing rules ([[tool.llmtap.routes]])."""


def _runner(config_path: Path | None, store: Any = None) -> Any:
    from llmtap.config import load_settings
    from llmtap.routing import load

    try:
        return load(load_settings(config=config_path), store)
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None


def _open(store_file: Path | None) -> Any:
    from llmtap.store import open_store

    try:
        return open_store(store_file, create=False)
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None


def _rule_dict(rule: Any) -> dict[str, Any]:
    return {
        "name": rule.name,
        "when": rule.when,
        "sample": rule.sample,
        "actions": [str(action) for action in rule.actions],
        "enabled": rule.enabled,
        "description": rule.description,
    }


@routes.command("check")
@_CONFIG
@_JSON
def check(config_path: Path | None, as_json: bool) -> None:
    """Parse and type-check every rule; exit 1 (with the rule and position) on the first problem."""
    from llmtap.routing.exporters import check_installed

    runner = _runner(config_path)
    try:  # a named exporter whose package is missing would fail only when a trace is sent to it
        for spec in runner.exporter_specs.values():
            check_installed(spec)
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([_rule_dict(rule) for rule in runner.rules], indent=2))
        return
    for rule in runner.rules:
        state = "" if rule.enabled else " (disabled)"
        click.echo(f"ok   {rule.name}{state}: when {rule.when}")
        click.echo(f"     sample {rule.sample:g} -> {', '.join(str(action) for action in rule.actions)}")
    click.echo(f"{len(runner.rules)} rule(s) checked")


def _trace_facts(store: Any, trace_id: str) -> tuple[list[Any], list[Any], str]:
    from llmtap.routing.runner import annotation_facts, facts_of_stored

    detail = store.get_trace(trace_id)
    return [facts_of_stored(span) for span in detail.spans], annotation_facts(detail.annotations), detail.trace_id


@routes.command("test")
@click.argument("trace_id")
@_CONFIG
@_STORE
@_JSON
def test(trace_id: str, config_path: Path | None, store_file: Path | None, as_json: bool) -> None:
    """Show which rules match a stored trace and why: each top-level clause's value."""
    from llmtap.routing import explain, variables

    runner = _runner(config_path)
    store = _open(store_file)
    try:
        spans, annotations, full_id = _trace_facts(store, trace_id)
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    values = variables.build(spans, annotations)
    report = []
    for rule in runner.rules:
        outcome, clauses = explain(rule, values, full_id)
        report.append(
            {
                **_rule_dict(rule),
                "matched": outcome.matched,
                "sampled": outcome.sampled,
                "selected": outcome.selected,
                "error": outcome.error,
                "clauses": [{"clause": c.source, "value": c.value, "error": c.error} for c in clauses],
                "actions_selected": [str(action) for action in outcome.actions],
            }
        )
    if as_json:
        click.echo(json.dumps({"trace_id": full_id, "rules": report}, indent=2, default=str))
        return
    click.echo(f"trace {full_id}")
    for item in report:
        verdict = "MATCH" if item["selected"] else "match, not sampled" if item["matched"] else "no match"
        if not item["enabled"]:
            verdict += " (rule disabled)"
        click.echo(f"{item['name']}: {verdict}")
        for clause in item["clauses"]:
            shown = clause["error"] if clause["error"] else json.dumps(clause["value"], default=str)
            click.echo(f"    {clause['clause']}  ->  {shown}")
        if item["actions_selected"]:
            click.echo(f"    actions: {', '.join(item['actions_selected'])}")


@routes.command("run")
@click.option("--since", required=True, help="Traces that started at or after this: 2025-11-01, an ISO time, or 30d.")
@click.option("--until", default=None, help="... and before this.")
@click.option("--dry-run", is_flag=True, help="Say what would be done; change nothing.")
@_CONFIG
@_STORE
@_JSON
def run(
    since: str, until: str | None, dry_run: bool, config_path: Path | None, store_file: Path | None, as_json: bool
) -> None:
    """Run the rules over stored traces (back-fill). Idempotent: a trace enters a queue or dataset once.

    Exporter actions are not replayed: named exporters receive traces as they happen.
    """
    from llmtap.routing.backfill import backfill
    from llmtap.store import TraceQuery, parse_time

    store = _open(store_file)
    runner = _runner(config_path, store)
    try:
        query = TraceQuery(since=parse_time(since, "--since"), until=parse_time(until, "--until") if until else None)
        with progress_bar("routing stored traces", quiet=as_json) as update:
            result = backfill(runner, store, query, dry_run=dry_run, progress=update)
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    total, matched, done, skipped = result.traces, result.matched, result.done, result.already_done
    summary = {"traces": total, "dry_run": dry_run, "matched": matched, "done": done, "already_done": skipped}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    verb = "would do" if dry_run else "did"
    click.echo(f"{total} trace(s) routed{' (dry run)' if dry_run else ''}")
    for name, count in matched.items():
        click.echo(f"  {name}: {count} selected")
    for label, count in sorted(done.items()):
        click.echo(f"  {verb} {label}: {count}")
    for label, count in sorted(skipped.items()):
        click.echo(f"  already done {label}: {count}")
