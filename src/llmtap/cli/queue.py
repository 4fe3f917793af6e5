"""`llmtap queue list|show|add|remove|next|submit|skip|stats`: review queues (a thin shell over `llmtap.review`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from llmtap.cli.common import console, json_option, opened_store, print_json, store_option
from llmtap.errors import LlmtapError

F = TypeVar("F", bound=Callable[..., Any])


def _as_option(function: F) -> F:
    return click.option("--as", "reviewer", required=True, help="Who is reviewing (a name or an id).")(function)


@contextmanager
def _queues(store_file: Path | None) -> Iterator[Any]:
    from llmtap.review import ReviewQueues

    with opened_store(store_file) as store:
        yield ReviewQueues(store)


@click.group()
def queue() -> None:
    """Review queues ([tool.llmtap.queues.*]): claim traces, annotate them, measure agreement."""


@queue.command("list")
@store_option
@json_option
def list_queues(store_file: Path | None, as_json: bool) -> None:
    """Every declared queue with its items per state."""
    with _queues(store_file) as queues:
        listed = [
            {**config.as_dict(), "states": queues.stats(name).states} for name, config in sorted(queues.queues.items())
        ]
    if as_json:
        print_json(listed)
        return
    if not listed:
        click.echo("no queues declared; add [tool.llmtap.queues.<name>] to pyproject.toml")
    for entry in listed:
        states = ", ".join(f"{count} {state}" for state, count in entry["states"].items())
        click.echo(
            f"{entry['name']}: {states}; asks for {', '.join(entry['annotations'])}; "
            f"{entry['reviewers']} reviewer(s) per item"
        )


@queue.command()
@click.argument("name")
@store_option
@json_option
def show(name: str, store_file: Path | None, as_json: bool) -> None:
    """The queue's settings and every item with its reviews."""
    with _queues(store_file) as queues:
        config = queues.queue(name)
        items = queues.items(name)
    if as_json:
        print_json({**config.as_dict(), "items": [item.as_dict() for item in items]})
        return
    from rich.table import Table

    click.echo(f"{config.name}: asks for {', '.join(config.annotations)}; {config.reviewers} reviewer(s) per item")
    if config.instructions:
        click.echo(config.instructions)
    table = Table("item", "trace", "state", "reviews")
    for item in items:
        reviews = ", ".join(f"{review.reviewer} {review.state}" for review in item.reviews)
        table.add_row(str(item.item_id), item.trace_id, item.state, reviews)
    console().print(table)


@queue.command()
@click.argument("name")
@click.argument("trace_id")
@store_option
def add(name: str, trace_id: str, store_file: Path | None) -> None:
    """Put a stored trace (id or unique prefix) in the queue."""
    with _queues(store_file) as queues:
        added = queues.add(name, trace_id)
    click.echo(f"added {trace_id} to {name}" if added else f"{trace_id} is in {name} already")


@queue.command()
@click.argument("name")
@click.argument("trace_id")
@store_option
def remove(name: str, trace_id: str, store_file: Path | None) -> None:
    """Take a trace out of the queue, with its claims."""
    with _queues(store_file) as queues:
        removed = queues.remove(name, trace_id)
        if removed:
            try:
                trace_id = queues.store.get_trace(trace_id).trace_id  # the full id of a prefix
            except LookupError:
                pass
    if not removed:
        raise click.ClickException(
            f"trace {trace_id!r}: not in queue {name!r}; expected a trace `llmtap queue show` lists"
        )
    click.echo(f"removed {trace_id} from {name}")


@queue.command("next")
@click.argument("name")
@_as_option
@store_option
@json_option
def next_item(name: str, reviewer: str, store_file: Path | None, as_json: bool) -> None:
    """Claim the next item for REVIEWER and print its trace in context."""
    with _queues(store_file) as queues:
        claim = queues.next(name, reviewer)
        asked = {annotation: queues.schemas[annotation].allows() for annotation in queues.queue(name).annotations}
    if claim is None:
        if as_json:
            print_json(None)
        else:
            click.echo(f"nothing left in {name} for {reviewer}")
        return
    if as_json:
        print_json({**claim.as_dict(), "asks_for": asked})
        return
    _render(claim)
    click.echo()
    until = next(review for review in claim.item.reviews if review.reviewer == reviewer.strip()).as_dict()
    click.echo(f"item {claim.item.item_id} claimed by {reviewer} until {until['claimed_until']}")
    if claim.queue.instructions:
        click.echo(claim.queue.instructions)
    for annotation, allowed in asked.items():
        click.echo(f"  {annotation}: {allowed}")
    click.echo(f"llmtap queue submit {claim.item.item_id} --as {reviewer} name=value ...   (or: llmtap queue skip ...)")


def _render(claim: Any) -> None:
    """The trace in context, as `llmtap show` renders it: span tree, annotations, conversation."""
    from llmtap.cli.show import render_trace

    render_trace(console(), claim.trace)


def _values(pairs: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r}: expected name=value", param_hint="VALUES")
        values[name] = value
    return values


@queue.command()
@click.argument("item", type=int)
@click.argument("values", nargs=-1)
@_as_option
@click.option("--explanation", help="Why (stored with every value).")
@store_option
@json_option
def submit(
    item: int, values: tuple[str, ...], reviewer: str, explanation: str | None, store_file: Path | None, as_json: bool
) -> None:
    """Complete REVIEWER's review of ITEM with name=value annotations (checked against their schemas)."""
    with _queues(store_file) as queues:
        try:
            stored = queues.submit(item, reviewer, _values(values), explanation=explanation)
        except LlmtapError as exc:
            raise click.ClickException(str(exc)) from None
        state = queues.item(item).state
    if as_json:
        print_json({"item": item, "state": state, "annotations": [annotation.as_dict() for annotation in stored]})
        return
    click.echo(f"item {item}: stored {', '.join(f'{a.name}={a.value!r}' for a in stored)}; the item is {state}")


@queue.command()
@click.argument("item", type=int)
@click.option("--as", "reviewer", help="Who passes (default: the one reviewer holding a claim on ITEM).")
@store_option
def skip(item: int, reviewer: str | None, store_file: Path | None) -> None:
    """REVIEWER passes on ITEM: the slot goes back to the others."""
    with _queues(store_file) as queues:
        if reviewer is None:
            now = queues.clock()
            holders = [review.reviewer for review in queues.item(item).reviews if review.active(now)]
            if len(holders) != 1:
                held = f"claimed by {', '.join(holders)}" if holders else "claimed by nobody"
                raise click.UsageError(f"item {item} is {held}; expected --as REVIEWER")
            reviewer = holders[0]
        found = queues.skip(item, reviewer)
    click.echo(f"item {item}: skipped by {reviewer}; the item is {found.state}")


@queue.command()
@click.argument("name")
@store_option
@json_option
def stats(name: str, store_file: Path | None, as_json: bool) -> None:
    """Items per state, reviews per reviewer, and agreement (percent and Krippendorff's alpha) per annotation."""
    with _queues(store_file) as queues:
        found = queues.stats(name)
    if as_json:
        print_json(found.as_dict())
        return
    click.echo(f"{name}: " + ", ".join(f"{count} {state}" for state, count in found.states.items()))
    click.echo("reviews: " + (", ".join(f"{who} {count}" for who, count in found.reviewers.items()) or "none yet"))
    for entry in found.agreement:
        if entry.level is None:
            click.echo(f"  {entry.name}: {entry.ratings} rating(s); no agreement figure for text")
            continue
        percent = "-" if entry.percent is None else f"{entry.percent:.1%}"
        alpha = "-" if entry.alpha is None else f"{entry.alpha:.3f}"
        click.echo(
            f"  {entry.name} ({entry.level}): {entry.items} item(s) rated, {entry.paired_items} by 2+ reviewers, "
            f"{entry.ratings} rating(s); agreement {percent}; Krippendorff's alpha {alpha}"
        )
