"""`llmtap annotations check | pending`: the annotation schemas, a file of annotations checked, old pending ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

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
def check(config_path: Path | None, sample_file: Path | None) -> None:
    """Print the annotation schemas and validate a file of annotations. Exit 1 on any problem."""
    from llmtap.annotations import schemas

    try:
        settings = load_settings(config=config_path)
        declared = schemas(settings)
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"annotation schemas from {settings.source} (mode: {settings.annotations_mode})")
    if not declared:
        refused = "" if settings.annotations_mode == "open" else ": every annotation is refused"
        click.echo(f"  no annotations declared{refused}")
    for _name, schema in sorted(declared.items()):
        click.echo(_describe(schema))
    if sample_file is None:
        return
    failures = total = 0
    for where, item in json_lines(sample_file):
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


@annotations.command("pending")
@click.option("--older-than", "older_than", default="1h", show_default=True, help="Age, e.g. 90s, 10m, 2h, 1d.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per pending annotation.")
def pending_command(older_than: str, as_json: bool) -> None:
    """Annotations still waiting for a span with their join key, older than --older-than. Exit 1 if any."""
    from llmtap.annotations import pending

    try:
        age = pending.parse_age(older_than)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from None
    holder = pending.holder()
    old = holder.older_than(age)
    if as_json:
        for annotation in old:
            click.echo(json.dumps(annotation.as_dict(), ensure_ascii=False))
    else:
        for annotation in old:
            key = annotation.target.join
            click.echo(
                f"{annotation.created_at.isoformat(timespec='seconds')}  {annotation.id}  {annotation.name}="
                f"{annotation.value!r}  waiting for {key.label}={key.value!r}"
                if key
                else annotation.id
            )
        click.echo(f"{len(old)} of {len(holder)} pending annotation(s) older than {older_than} ({pending.where()})")
    if old:
        raise SystemExit(1)
