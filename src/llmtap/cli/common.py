"""What the store-reading commands share: `--store`, the trace filters, `--json`, the rich console."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from llmtap.errors import LlmtapError

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from rich.console import Console

    from llmtap.store import Store, TraceQuery

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
ProgressUpdate = Callable[[int, "int | None"], None]


def store_option(function: F) -> F:
    # The path as a str: pathlib (with urllib.parse and ipaddress, ~7 ms) is not imported by the commands reading
    # the store, which start often.
    return click.option(
        "--store",
        "store_file",
        type=click.Path(dir_okay=False),
        help="Store file (default: LLMTAP_STORE, else .llmtap/llmtap.db).",
    )(function)


def store_sample_options(what: str) -> Callable[[F], F]:
    """`--store PATH` and `--sample N` of a `check` command that also validates `what` of the newest stored traces."""

    def decorate(function: F) -> F:
        function = click.option(
            "--sample",
            "sample_size",
            type=click.IntRange(min=1),
            default=100,
            show_default=True,
            help="How many of the newest stored traces --store validates.",
        )(function)
        return click.option(
            "--store",
            "store_file",
            type=click.Path(dir_okay=False),
            help=f"Also validate {what} of the newest traces of this store.",
        )(function)

    return decorate


def json_option(function: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (a documented, stable shape).")(function)


@contextmanager
def opened_store(path: str | Path | None) -> Iterator[Store]:
    """The store at `path` (default: `LLMTAP_STORE`) for reading; a missing or unusable one is a clear error."""
    from llmtap.store import open_store
    from llmtap.store.paths import as_path_text, store_location

    target = as_path_text(os.fspath(path)) if path is not None else store_location()
    if target is None:
        raise click.ClickException("LLMTAP_STORE=off: the local store is disabled; pass --store PATH to read one")
    if not os.path.exists(target):
        raise click.ClickException(
            f"no llmtap store at {target}: run an instrumented application first (or `llmtap demo`), "
            "or pass --store PATH"
        )
    try:
        store = open_store(target, create=False)
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        yield store
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint=option)
        pairs[key.strip()] = value.strip()
    return pairs


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    from llmtap.store import parse_time

    try:
        return parse_time(text, option)
    except LlmtapError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


_FILTERS = [
    click.option("--label", "labels", multiple=True, metavar="K=V", help="Only traces with this label (repeatable)."),
    click.option("--model", help="Only traces calling this model (requested or responding)."),
    click.option("--provider", help="Only traces calling this provider (openai, anthropic, ...)."),
    click.option("--errors", is_flag=True, help="Only traces with an error."),
    click.option("--min-latency", type=click.FloatRange(min=0), metavar="MS", help="Only traces lasting >= MS ms."),
    click.option("--min-tokens", type=click.IntRange(min=0), metavar="N", help="Only traces using >= N tokens."),
    click.option("--since", metavar="WHEN", help="Only traces started at or after WHEN (2025-11-01, ISO time, 2h)."),
    click.option("--until", metavar="WHEN", help="Only traces started before WHEN."),
    click.option("--search", metavar="TEXT", help="Only traces whose prompts or completions hold these words."),
]


def trace_filters(annotation_option: str = "--annotation") -> Callable[[F], F]:
    """The filter options of `llmtap traces`, shared by `llmtap stats` (where `--annotation` names the annotation
    to measure, so its annotation filter is `--annotated`)."""

    def decorate(function: F) -> F:
        function = click.option(
            annotation_option,
            "annotation_filters",
            multiple=True,
            metavar="NAME=VALUE",
            help="Only traces annotated so (repeatable; NAME=a,b for either value).",
        )(function)
        for option in reversed(_FILTERS):
            function = option(function)
        return function

    return decorate


def build_query(options: dict[str, Any], *, limit: int = 50, offset: int = 0) -> TraceQuery:
    """A `TraceQuery` from the options `trace_filters` added (taken out of `options`)."""
    from llmtap.store import TraceQuery

    return TraceQuery(
        labels=_pairs(options.pop("labels"), "--label"),
        model=options.pop("model"),
        provider=options.pop("provider"),
        errors=options.pop("errors"),
        min_latency_ms=options.pop("min_latency"),
        min_tokens=options.pop("min_tokens"),
        since=_time(options.pop("since"), "--since"),
        until=_time(options.pop("until"), "--until"),
        search=options.pop("search"),
        annotations=_pairs(options.pop("annotation_filters"), "--annotation"),
        limit=limit,
        offset=offset,
    )


def short_time(iso: str) -> str:
    """`2025-11-27T09:14:03.123456Z` -> `2025-11-27 09:14:03`."""
    return iso[:19].replace("T", " ")


def duration(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


def labels_text(labels: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in sorted(labels.items()))


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def console() -> Console:
    """A rich console on stdout (colours only on a terminal; width COLUMNS, else the terminal's, else 120). Text is
    printed as given: no `:name:` emoji codes replaced (nor the emoji table imported)."""
    from rich.console import Console

    columns, lines = terminal_size()
    # A height given spares rich finding it on every print (it is not used: nothing printed fills the screen).
    return Console(highlight=False, width=columns or 120, height=lines or 25, soft_wrap=False, emoji=False)


def screenful() -> int:
    """How many traces (two lines each) fit on the terminal (10 when not on one)."""
    return max(1, ((terminal_size()[1] or 26) - 6) // 2)


def terminal_size() -> tuple[int, int]:
    """(columns, lines) as `shutil.get_terminal_size` finds them: COLUMNS / LINES, else stdout's terminal; 0 for
    what neither gives. (Not shutil itself: it imports the compression modules, a few ms of each command.)"""
    sizes = []
    for name in ("COLUMNS", "LINES"):
        try:
            sizes.append(max(int(os.environ[name]), 0))
        except (KeyError, ValueError):
            sizes.append(0)
    if not all(sizes):
        try:
            found = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            found = os.terminal_size((0, 0))
        sizes = [sizes[0] or found.columns, sizes[1] or found.lines]
    return sizes[0], sizes[1]


@contextmanager
def progress_bar(description: str, *, quiet: bool = False) -> Iterator[ProgressUpdate]:
    """A transient progress bar on stderr for a long command; yields `update(done, total)` (total None: unknown).

    Shown only when stderr is a terminal and the command was not asked for `--json` (`quiet`): stdout stays the
    command's output, byte for byte, whatever the bar does. Cheap to call per item: hidden, `update` does nothing;
    shown, it passes the count to the bar at most every 50 ms (and at the end).
    """
    if quiet or not sys.stderr.isatty():
        yield _no_progress
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)
        last = 0.0

        def update(done: int, total: int | None = None) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= 0.05 or done == total:
                last = now
                bar.update(task, completed=done, total=total)

        yield update


def _no_progress(done: int, total: int | None = None) -> None:
    pass


def counted(items: Iterable[T], update: ProgressUpdate, total: int | None = None, every: int = 1000) -> Iterator[T]:
    """`items` as they are, calling `update(done, total)` every `every` items and at the end."""
    done = 0
    for done, item in enumerate(items, 1):
        if done % every == 0:
            update(done, total)
        yield item
    update(done, total if total is not None else done)
