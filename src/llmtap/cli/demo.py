"""`llmtap demo`: runs the packaged demo application offline into a store, then shows what llmtap recorded —
the traces, one trace in full, stats by prompt version — and the commands to try next."""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from llmtap.cli.common import console, opened_store

if TYPE_CHECKING:
    from rich.console import Console

DEFAULT_STORE = Path(".llmtap") / "demo.db"
# What the demo suggests you submit for the item left in the queue (the warranty question, answered by prompt v1).
YOUR_CORRECTION = "A crack from a manufacturing defect is covered for life; crash damage is not."
_NEEDS = ("openai", "anthropic", "langchain_core", "langchain_openai", "llmtap_openai", "llmtap_anthropic")


def _check_installed() -> None:
    missing = [name for name in (*_NEEDS, "llmtap_langchain") if importlib.util.find_spec(name) is None]
    if missing:
        raise click.ClickException(
            f'llmtap demo needs {", ".join(missing)}: expected `pip install "llmtap[demo]"` (the SDKs and plugins '
            "the demo application uses)"
        )


def _fresh(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.unlink()


def _store_flag(store: Path) -> str:
    return "" if store == DEFAULT_STORE else f" --store {store}"


def config_path(store: Path) -> Path:
    """Where the demo writes its settings for the CLI: beside the store (`.llmtap/demo.toml`)."""
    return store.with_suffix(".toml")


def export_path(store: Path) -> Path:
    """Where the demo writes the reviewed traces as chat rows (`.llmtap/demo-review.jsonl`)."""
    return store.with_name(f"{store.stem}-review.jsonl")


def path_step() -> tuple[str, str] | None:
    """The line that puts this environment's `llmtap` on PATH, when the shell would not find it (the demo run as
    `.venv/bin/llmtap` by scripts/demo.sh, from a fresh clone), else None."""
    scripts = Path(sys.executable).parent
    found = shutil.which("llmtap")
    if found is not None and os.path.samefile(Path(found).parent, scripts):
        return None
    activate = scripts / "activate"
    if activate.exists():
        shown = os.path.relpath(activate) if activate.is_relative_to(Path.cwd()) else str(activate)
        return f"source {shlex.quote(shown)}", "put this environment's `llmtap` on your PATH"
    return f'export PATH={shlex.quote(str(scripts))}:"$PATH"', "put this environment's `llmtap` on your PATH"


def _next_steps(out: Console, store: Path, order_trace: str, error_trace: str, yours: int | None) -> None:
    from llmtap.demo.app import CHAT_MODEL

    out.rule("next", align="left")
    environment = f"LLMTAP_CONFIG={shlex.quote(str(config_path(store)))} LLMTAP_STORE={shlex.quote(str(store))}"
    on_path = path_step()
    steps = [] if on_path is None else [on_path]
    steps += [
        (f"export {environment}", "the demo's settings (labels, schemas, routes, queue) and store, for what follows"),
        ("llmtap traces --label prompt_version=v2", "filter by any label"),
        ("llmtap traces --errors", "the traces with an error"),
        ("llmtap traces --annotation user_feedback=thumbs_down", "what customers disliked"),
        ('llmtap traces --search "frame size"', "full-text search over prompts and completions"),
        (f"llmtap show {order_trace[:8]}", "the tool-calling trace: arguments and results"),
        ("llmtap stats --by provider", "calls, tokens, errors, latency percentiles"),
        ("llmtap traces --json", "the same data as JSON, for scripts"),
        (f"llmtap routes test {error_trace[:8]}", "which rules sent the errored trace to review, clause by clause"),
        ("llmtap routes run --since 1d", "back-fill the rules over stored traces (here: all done already)"),
    ]
    if yours is not None:
        steps += [
            ("llmtap queue next review --as you", "the item left in the queue is yours: the trace in context"),
            (
                f'llmtap queue submit {yours} --as you answer_quality=incomplete "correction={YOUR_CORRECTION}"',
                "your verdict and corrected answer, checked against their schemas and stored at once",
            ),
        ]
    steps += [
        ("llmtap queue stats review", "items per state, reviews per reviewer, agreement"),
        (f"llmtap export --queue review --format eval --model {CHAT_MODEL}", "the reviewed traces for an eval set"),
    ]
    for command, what in steps:
        out.print(f"  [dim]# {what}[/dim]")
        out.print(f"  [bold]{command}[/bold]", no_wrap=True, overflow="ignore", crop=False)


def _review_loop(out: Console, store: Path) -> int | None:
    """What the routes did, the scripted reviewer's work, the export; returns the item left for you (if any)."""
    from rich.table import Table

    from llmtap.demo import reviewer, run

    rules = {rule["name"]: rule for rule in run.CONFIG["routes"]}
    with opened_store(store) as db:
        queued = db.queue_item_traces(reviewer.QUEUE)
        out.rule(f"routes (in {config_path(store)})", align="left")
        table = Table(box=None, pad_edge=False, show_edge=False)
        for column in ("rule", "when", "actions", "selected", "queued"):
            table.add_column(column, justify="right" if column in ("selected", "queued") else "left")
        selected = run.rule_matches(db)
        for name, rule in rules.items():
            count = sum(1 for _trace, _state, by in queued if by == name)
            table.add_row(name, escape(rule["when"]), ", ".join(rule["actions"]), str(selected[name]), str(count))
        out.print(table)
        out.print(
            f"routed {len(queued)} traces to queue [bold]{reviewer.QUEUE}[/bold]: errored ones as each trace ended, "
            "thumbs-down ones when the feedback arrived (a trace enters a queue once, whichever rules select it)\n"
        )
        out.rule(f"llmtap queue next {reviewer.QUEUE} --as {reviewer.REVIEWER}, then submit", align="left")
        review = reviewer.work_queue(db, run.CONFIG)
        table = Table(box=None, pad_edge=False, show_edge=False)
        for column in ("item", "question", "answer_quality", "correction", "explanation"):
            table.add_column(column, overflow="fold")
        for item in review.items:
            verdict = item.verdict
            table.add_row(
                str(item.item_id),
                item.question,
                verdict.quality,
                "yes" if verdict.correction else "",
                verdict.explanation,
            )
        out.print(table)
        out.print(
            f"{reviewer.REVIEWER} reviewed {len(review.items)} items ({len(review.corrected)} with a corrected "
            f"answer), skipped {len(review.skipped)}; {len(review.left)} left pending for the next reviewer\n"
        )
        output = export_path(store)
        out.rule(
            f"llmtap export --queue {reviewer.QUEUE} --format chat --model {reviewer.CHAT_MODEL} --output {output}",
            align="left",
        )
        summary = reviewer.export_reviewed(db, output, run.CONFIG)
    out.print(
        f"exported {summary.rows} chat rows (OpenAI fine-tuning format, provenance under `llmtap`) from the "
        f"{summary.traces} reviewed traces to [bold]{output}[/bold]"
    )
    return review.left[0] if review.left else None


@click.command()
@click.option(
    "--store",
    "store_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Record into this store (default: a fresh {DEFAULT_STORE}).",
)
def demo(store_file: Path | None) -> None:
    """Run a small support-assistant app (LangChain RAG, OpenAI tool calls, Claude) offline against recorded
    API responses, record it with llmtap (with the customers' feedback as annotations), and show the traces, one
    trace in full and stats by prompt version with the feedback rates."""
    _check_installed()
    from rich.progress import Progress

    from llmtap.cli.show import render_trace
    from llmtap.cli.stats import render_annotations, render_calls
    from llmtap.cli.traces import render_traces
    from llmtap.demo import run
    from llmtap.demo.traffic import ORDER_SHIPPED, TURNS
    from llmtap.stats import annotation_groups, call_groups
    from llmtap.store import TraceQuery

    store = store_file or DEFAULT_STORE
    if store_file is None:
        _fresh(store)
    run.write_config(config_path(store))
    out = console()
    out.print(
        "[bold]llmtap demo[/bold]: Velora Bikes' support assistant — a LangChain RAG chain, an OpenAI tool call and "
        "a Claude summary per question — played offline against recorded OpenAI and Anthropic responses "
        "(no API key, no network), instrumented by llmtap."
    )
    with Progress(console=out, transient=True) as progress:
        task = progress.add_task("customers asking", total=len(TURNS))
        answered = run.record(store, on_turn=lambda _item: progress.advance(task))
    for item in answered:
        customer = item.turn.customer
        out.print(
            f"  [cyan]{customer.user_id}[/cyan] [dim]({customer.segment}, prompt {customer.prompt_version})[/dim] "
            f"{item.turn.question}  [dim]→ {item.answer}[/dim]",
            no_wrap=True,
            overflow="ellipsis",
        )
    out.print(f"\nrecorded {len(answered)} traces into [bold]{store}[/bold]\n")

    by_trace = {item.ref.trace_id: item for item in answered}
    with opened_store(store) as db:
        summaries = db.query_traces(TraceQuery(limit=len(answered)))
        out.rule(f"llmtap traces{_store_flag(store)}", align="left")
        render_traces(out, summaries)
        error_trace = next(summary.trace_id for summary in summaries if summary.error)
        out.print()
        out.rule(f"llmtap show {error_trace[:8]}{_store_flag(store)}", align="left")
        render_trace(out, db.get_trace(error_trace))
        out.print()
        by = "label.prompt_version"
        out.rule(f"llmtap stats --by {by} --annotation user_feedback{_store_flag(store)}", align="left")
        render_calls(out, by, call_groups(db.model_calls(), by))
        out.print()
        kind, feedback = annotation_groups(db.annotated_traces("user_feedback"), by)
        render_annotations(out, "user_feedback", by, kind, feedback)
    out.print()
    yours = _review_loop(out, store)
    order_trace = next(trace_id for trace_id, item in by_trace.items() if item.turn.question == ORDER_SHIPPED)
    out.print()
    _next_steps(out, store, order_trace, error_trace, yours)
