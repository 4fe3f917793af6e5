"""The `llmtap` command line. `llmtap labels check` prints the label schema and validates labels."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import click

from llmtap.config import load_settings, parse_tags
from llmtap.errors import LlmtapError
from llmtap.labels.policy import ATTRIBUTE_PREFIX, LabelPolicy
from llmtap.labels.schema import parse_schema


@click.group()
def main() -> None:
    """llmtap: OpenTelemetry instrumentation for LLM calls, and the loop from traces to labelled data."""


@main.group()
def labels() -> None:
    """The label schema ([tool.llmtap.labels.*])."""


def _samples_from_file(path: Path) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """JSON lines: each a label object, or a span (`attributes` with `llmtap.tag.*` keys)."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise click.BadParameter(f"{where}: not valid JSON ({exc}); expected one object per line") from None
            if not isinstance(item, dict):
                raise click.BadParameter(f"{where}: {item!r} is not an object; expected one object per line")
            attributes = item.get("attributes")
            if isinstance(attributes, dict):
                item = {k[len(ATTRIBUTE_PREFIX) :]: v for k, v in attributes.items() if k.startswith(ATTRIBUTE_PREFIX)}
            yield where, item


def _print_schema(policy: LabelPolicy, source: str) -> None:
    click.echo(f"label schema from {source} (mode: {policy.mode})")
    if not policy.specs:
        click.echo("  no labels declared: every label is accepted as given")
        return
    for key, spec in sorted(policy.specs.items()):
        kind = f"enum[{', '.join(map(str, spec.values))}]" if spec.type == "enum" else spec.type
        flags = [flag for flag, on in (("required", spec.required), ("propagate", spec.propagate)) if on]
        line = f"  {key}: {kind}"
        if flags:
            line += f" ({', '.join(flags)})"
        if spec.description:
            line += f" - {spec.description}"
        click.echo(line)


def _check_sample(policy: LabelPolicy, sample: Mapping[str, Any]) -> list[str]:
    problems = []
    for key, value in sample.items():
        _, message = policy.problem(str(key), value)
        if message is not None:
            problems.append(message)
    problems.extend(f"required label {key!r} is missing" for key in policy.missing(sample))
    return problems


@labels.command("check")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="TOML file to read.")
@click.option("--labels", "given", multiple=True, help="Labels to validate, as k=v,k2=v2 (repeatable).")
@click.option(
    "--file",
    "sample_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON lines of label objects or exported spans to validate.",
)
def check(config_path: Path | None, given: tuple[str, ...], sample_file: Path | None) -> None:
    """Print the label schema and validate LLMTAP_TAGS and a sample of labels. Exit 1 on any problem."""
    try:
        settings = load_settings(config=config_path)
        policy = LabelPolicy(parse_schema(settings.tables.get("labels"), settings.source), settings.labels_mode)
        samples: list[tuple[str, Mapping[str, Any]]] = []
        if settings.tags:
            samples.append(("LLMTAP_TAGS" if os.environ.get("LLMTAP_TAGS") else "tags", settings.tags))
        samples.extend((f"--labels {raw}", parse_tags(raw, "--labels")) for raw in given)
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None
    if sample_file is not None:
        samples.extend(_samples_from_file(sample_file))
    _print_schema(policy, settings.source)
    failures = 0
    for where, sample in samples:
        problems = [p for p in _check_sample(policy, sample) if where != "LLMTAP_TAGS" or "required" not in p]
        if problems:
            failures += 1
            for problem in problems:
                click.echo(f"FAIL {where}: {problem}")
        else:
            click.echo(f"ok   {where}")
    click.echo(f"{len(samples)} sample(s) checked, {failures} with problems")
    if failures:
        raise SystemExit(1)
