"""`llmtap demo`: runs the packaged demo application offline into a store, then shows what llmtap recorded —
the traces, one trace in full, stats by prompt version — and the commands to try next."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import click

from llmtap.cli.common import console, opened_store

if TYPE_CHECKING:
    from rich.console import Console

DEFAULT_STORE = Path(".llmtap") / "demo.db"
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


def _next_steps(out: Console, store: Path, order_trace: str) -> None:
    flag = f" --store {store}"
    out.rule("next", align="left")
    steps = [
        (f"llmtap traces{flag} --label prompt_version=v2", "filter by any label"),
        (f"llmtap traces{flag} --errors", "the traces with an error"),
        (f"llmtap traces{flag} --annotation user_feedback=thumbs_down", "what customers disliked"),
        (f'llmtap traces{flag} --search "frame size"', "full-text search over prompts and completions"),
        (f"llmtap show {order_trace[:8]}{flag}", "the tool-calling trace: arguments and results"),
        (f"llmtap stats{flag} --by provider", "calls, tokens, errors, latency percentiles"),
        (f"llmtap traces{flag} --json", "the same data as JSON, for scripts"),
    ]
    for command, what in steps:
        out.print(f"  [dim]# {what}[/dim]")
        out.print(f"  [bold]{command}[/bold]", no_wrap=True, overflow="ignore", crop=False)


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
    order_trace = next(trace_id for trace_id, item in by_trace.items() if item.turn.question == ORDER_SHIPPED)
    out.print()
    _next_steps(out, store, order_trace)
