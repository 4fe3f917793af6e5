"""`llmtap labels check`: prints the label schema and validates labels."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import click

from llmtap.cli.common import store_sample_options
from llmtap.cli.jsonl import json_lines
from llmtap.config import load_settings, parse_tags
from llmtap.errors import LlmtapError
from llmtap.labels.policy import ATTRIBUTE_PREFIX, LabelPolicy, is_llm_span
from llmtap.labels.schema import parse_schema


@click.group()
def labels() -> None:
    """The label schema ([tool.llmtap.labels.*])."""


class Sample(NamedTuple):
    where: str
    labels: Mapping[str, Any]
    # Whether required labels must be present: not for LLMTAP_TAGS (other sources may supply them), nor for
    # an exported span that is not an LLM span (the runtime checks them on LLM spans only: `is_llm_span`).
    required: bool = True


def _samples_from_file(path: Path) -> Iterable[Sample]:
    """JSON lines: each a label object, or a span (`attributes` with `llmtap.tag.*` keys)."""
    for where, item in json_lines(path):
        if not isinstance(item, dict):
            raise click.BadParameter(f"{where}: {item!r} is not an object; expected one object per line")
        attributes = item.get("attributes")
        if isinstance(attributes, dict):
            prefix = len(ATTRIBUTE_PREFIX)
            labels = {k[prefix:]: v for k, v in attributes.items() if k.startswith(ATTRIBUTE_PREFIX)}
            yield Sample(where, labels, is_llm_span(attributes))
        else:
            yield Sample(where, item)


def _samples_from_store(store_file: str, count: int) -> Iterable[Sample]:
    """The labels of the LLM spans of the `count` newest stored traces."""
    from llmtap.cli.common import opened_store
    from llmtap.store import TraceQuery

    with opened_store(store_file) as store:
        for summary in store.query_traces(TraceQuery(limit=count)):
            trace_id = summary.trace_id
            for span in store.get_trace(trace_id).spans:
                if is_llm_span(span.attributes):
                    prefix = len(ATTRIBUTE_PREFIX)
                    labels = {k[prefix:]: v for k, v in span.attributes.items() if k.startswith(ATTRIBUTE_PREFIX)}
                    yield Sample(f"trace {trace_id[:8]} span {span.span_id} ({span.name})", labels)


def _print_schema(policy: LabelPolicy, source: str) -> None:
    click.echo(f"label schema from {source} (mode: {policy.mode})")
    if not policy.specs:
        click.echo("  no labels declared: every label is accepted as given")
        return
    for key, spec in sorted(policy.specs.items()):
        kind = f"enum[{', '.join(map(str, spec.values))}]" if spec.type == "enum" else spec.type
        flags = [
            flag
            for flag, on in (
                ("required", spec.required),
                ("propagate", spec.propagate),
                ("metric", spec.metric),
            )
            if on
        ]
        line = f"  {key}: {kind}"
        if flags:
            line += f" ({', '.join(flags)})"
        if spec.description:
            line += f" - {spec.description}"
        click.echo(line)


def _check_sample(policy: LabelPolicy, sample: Sample) -> list[str]:
    problems = []
    for key, value in sample.labels.items():
        _, message = policy.problem(str(key), value)
        if message is not None:
            problems.append(message)
    if sample.required:
        problems.extend(f"required label {key!r} is missing" for key in policy.missing(sample.labels))
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
@store_sample_options("the labels of the LLM spans")
def check(
    config_path: Path | None,
    given: tuple[str, ...],
    sample_file: Path | None,
    store_file: str | None,
    sample_size: int,
) -> None:
    """Print the label schema and validate LLMTAP_TAGS and a sample of labels. Exit 1 on any problem."""
    try:
        settings = load_settings(config=config_path, strict=True)
        policy = LabelPolicy(parse_schema(settings.tables.get("labels"), settings.source), settings.labels_mode)
        samples: list[Sample] = []
        if settings.tags:
            from_env = bool(os.environ.get("LLMTAP_TAGS"))
            samples.append(Sample("LLMTAP_TAGS" if from_env else "tags", settings.tags, not from_env))
        samples.extend(Sample(f"--labels {raw}", parse_tags(raw, "--labels")) for raw in given)
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None
    if sample_file is not None:
        samples.extend(_samples_from_file(sample_file))
    if store_file is not None:
        samples.extend(_samples_from_store(store_file, sample_size))
    _print_schema(policy, settings.source)
    failures = 0
    for sample in samples:
        problems = _check_sample(policy, sample)
        if problems:
            failures += 1
            for problem in problems:
                click.echo(f"FAIL {sample.where}: {problem}")
        else:
            click.echo(f"ok   {sample.where}")
    click.echo(f"{len(samples)} sample(s) checked, {failures} with problems")
    if failures:
        raise SystemExit(1)
