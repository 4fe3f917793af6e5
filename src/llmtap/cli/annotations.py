"""`llmtap annotations check | pending`: the annotation schemas, a file of annotations checked, old pending ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from llmtap.cli.common import store_sample_options
from llmtap.cli.jsonl import json_lines
from llmtap.config import Settings, load_settings
from llmtap.errors import LlmtapError


@click.group()
def annotations() -> None:
    """Annotation schemas ([tool.llmtap.annotations.*]) and pending annotations."""


def _describe(schema: Any) -> str:
    if schema.type == "categorical":
        if schema.scores is not None:
            kind = "categorical[" + ", ".join(f"{label}={score:g}" for label, score in schema.scores.items()) + "]"
        else:
            kind = f"categorical[{', '.join(schema.labels)}]"
    elif schema.type == "score":
        kind = f"score ({schema.allows()})"
    else:
        kind = schema.type
    line = (
        f"  {schema.name} v{schema.version}: {kind}; explanation {schema.explanation}; "
        f"targets {', '.join(schema.targets)}; annotators {', '.join(schema.annotators)}"
    )
    if schema.safe:
        line += "; safe"
    if schema.description:
        line += f" - {schema.description}"
    return line


def _problem(settings: Settings, item: Any) -> str | None:
    from llmtap.annotations import check_value
    from llmtap.annotations.targets import resolve

    if not isinstance(item, dict) or "name" not in item or "value" not in item:
        return f"{item!r}: expected an object with name and value (and explanation, annotator_kind, target)"
    try:
        target = item.get("target")
        kind = None
        if isinstance(target, dict) and "kind" in target:
            kind = target["kind"]
        elif target is not None:
            kind = resolve(target).target.kind
        check_value(
            settings,
            item["name"],
            item["value"],
            item.get("explanation"),
            item.get("annotator_kind", "human"),
            kind,
        )
    except LlmtapError as exc:
        return str(exc)
    return None


@annotations.command("check")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="TOML file to read.")
@click.option(
    "--file",
    "sample_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON lines of annotations ({name, value, explanation?, annotator_kind?, target?}) to validate.",
)
@store_sample_options("the stored annotations")
def check(config_path: Path | None, sample_file: Path | None, store_file: str | None, sample_size: int) -> None:
    """Print the annotation schemas and validate a file of annotations and the annotations of a store. Exit 1 on
    any problem."""
    from llmtap.annotations import schemas

    try:
        settings = load_settings(config=config_path, strict=True)
        declared = schemas(settings)
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"annotation schemas from {settings.source} (mode: {settings.annotations_mode})")
    if not declared:
        refused = "" if settings.annotations_mode == "open" else ": every annotation is refused"
        click.echo(f"  no annotations declared{refused}")
    for _name, schema in sorted(declared.items()):
        click.echo(_describe(schema))
    samples: list[tuple[str, Any]] = []
    if sample_file is not None:
        samples.extend(json_lines(sample_file))
    if store_file is not None:
        samples.extend(_stored(store_file, sample_size))
    if sample_file is None and store_file is None:
        return
    failures = total = 0
    for where, item in samples:
        total += 1
        problem = _problem(settings, item)
        if problem is None:
            click.echo(f"ok   {where}")
        else:
            failures += 1
            click.echo(f"FAIL {where}: {problem}")
    click.echo(f"{total} annotation(s) checked, {failures} with problems")
    if failures:
        raise SystemExit(1)


def _stored(store_file: str, count: int) -> list[tuple[str, dict[str, Any]]]:
    """The annotations stored on the `count` newest traces, as `--file` lines are read."""
    from llmtap.cli.common import opened_store
    from llmtap.store import TraceQuery

    found = []
    with opened_store(store_file) as store:
        for summary in store.query_traces(TraceQuery(limit=count)):
            for stored in store.annotations(summary.trace_id):
                kind = stored.target.get("kind") if isinstance(stored.target, dict) else None
                item = {
                    "name": stored.name,
                    "value": stored.value,
                    "explanation": stored.explanation,
                    "annotator_kind": stored.annotator_kind,
                    **({"target": {"kind": kind}} if kind else {}),
                }
                found.append((f"trace {summary.trace_id[:8]} annotation {stored.annotation_id}", item))
    return found


def _line(created_at: datetime, annotation_id: str, name: str, value: Any, join: Any) -> str:
    waiting = f"waiting for {join['label']}={join['value']!r}" if isinstance(join, dict) else "no join key"
    return f"{created_at.isoformat(timespec='seconds')}  {annotation_id}  {name}={value!r}  {waiting}"


def _from_store(path: Path, age: timedelta) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    """(line, JSON object) of each pending annotation older than `age` in the store at `path`; how many in all."""
    from llmtap.store import open_store

    cutoff = datetime.now(UTC) - age
    store = open_store(path, create=False)
    try:
        waiting = store.pending_annotations()
    finally:
        store.close()
    old = []
    for stored in waiting:
        created_at = datetime.fromtimestamp(stored.time_ns / 1e9, tz=UTC)
        if created_at <= cutoff:
            join = stored.target.get("join") if isinstance(stored.target, dict) else None
            old.append((_line(created_at, stored.id, stored.name, stored.value, join), stored.as_dict()))
    return old, len(waiting)


def _from_process(age: timedelta) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    from llmtap.annotations import pending

    holder = pending.holder()
    old = []
    for annotation in holder.older_than(age):
        data = annotation.as_dict()
        join = data["target"].get("join")
        old.append((_line(annotation.created_at, annotation.id, annotation.name, annotation.value, join), data))
    return old, len(holder)


@annotations.command("pending")
@click.option("--older-than", "older_than", default="1h", show_default=True, help="Age, e.g. 90s, 10m, 2h, 1d.")
@click.option(
    "--store",
    "store_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Store file (default: LLMTAP_STORE, else .llmtap/llmtap.db).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per pending annotation.")
def pending_command(older_than: str, store_file: Path | None, as_json: bool) -> None:
    """Annotations still waiting for a span with their join key, older than --older-than. Exit 1 if any.

    They are read from the local store (where every process's annotations arrive); with no store file, from
    this process's memory.
    """
    from llmtap.annotations import pending

    try:
        age = pending.parse_age(older_than)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    try:
        path = store_file
        if path is None:
            from llmtap.store import store_path

            default = store_path(load_settings())
            path = default if default is not None and default.exists() else None
        if path is not None:
            old, total = _from_store(path, age)
            where = f"in the local store {path}"
        else:
            old, total = _from_process(age)
            where = pending.where()
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None
    for line, data in old:
        click.echo(json.dumps(data, ensure_ascii=False, default=str) if as_json else line)
    if not as_json:
        click.echo(f"{len(old)} of {total} pending annotation(s) older than {older_than} ({where})")
    if old:
        raise SystemExit(1)
