"""Runs the demo's traffic through the instrumented application into a store."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import llmtap
from llmtap.config import load_settings
from llmtap.demo.app import SupportBot
from llmtap.demo.recorded import RecordedAPI
from llmtap.demo.traffic import TURNS, Turn
from llmtap.refs import SpanRef
from llmtap.store.api import Store, TraceQuery
from llmtap.store.exporter import StoreLogExporter, StoreSpanExporter

SERVICE = "velora-support"
CONFIG_FILE = "llmtap.toml"
# The application's llmtap settings — labels, annotation schemas, routes, the review queue — as `[tool.llmtap]`
# in its pyproject.toml would hold them (read from llmtap.toml beside this module).
CONFIG: dict[str, Any] = tomllib.loads(files("llmtap.demo").joinpath(CONFIG_FILE).read_text(encoding="utf-8"))


def write_config(path: Path) -> Path:
    """The demo's settings as a TOML file at `path` (for `LLMTAP_CONFIG`, so the CLI sees its queues and routes)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the store's directory: owner only
    path.write_text(files("llmtap.demo").joinpath(CONFIG_FILE).read_text(encoding="utf-8"), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Answered:
    turn: Turn
    answer: str
    ref: SpanRef  # the turn's root span (the workflow), where its feedback goes


def record(store: Path, on_turn: Callable[[Answered], None] | None = None) -> list[Answered]:
    """Instrument the application into the store at `store`, run every turn of the traffic, flush."""
    resource = Resource.create({"service.name": SERVICE})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(StoreSpanExporter(store)))
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(StoreLogExporter(store)))
    llmtap.instrument(
        tracer_provider=tracer_provider,
        meter_provider=MeterProvider(resource=resource),
        logger_provider=logger_provider,
        capture_content=True,  # the review and export steps read the recorded conversations; the data is bundled
        config={**CONFIG, "store": str(store)},
    )
    answered = []
    try:
        with RecordedAPI() as api:
            bot = SupportBot.connect(api.base_url)
            for turn in TURNS:
                customer = turn.customer
                with llmtap.tags(
                    user_id=customer.user_id,
                    session_id=f"s-{customer.user_id}",
                    segment=customer.segment,
                    prompt_version=customer.prompt_version,
                ):
                    reply = bot.handle(turn.question, customer.prompt_version)
                answered.append(Answered(turn, reply.text, reply.ref))
                if on_turn is not None:
                    on_turn(answered[-1])
        for item in answered:  # the thumbs up / down arrive later, from the chat front end, with the turn's ref
            who = item.turn.customer.user_id
            llmtap.annotate(item.ref, "user_feedback", item.turn.feedback, annotator=who, annotator_kind="end_user")
    finally:
        tracer_provider.force_flush()
        logger_provider.force_flush()
        llmtap.uninstrument()
        tracer_provider.shutdown()
        logger_provider.shutdown()
    return answered


def rule_matches(store: Store) -> dict[str, int]:
    """How many of the stored traces each route selects now (their annotations included), evaluated without acting —
    what `llmtap routes run --dry-run` counts. A trace selected by two rules enters their queue once."""
    from llmtap.routing import load
    from llmtap.routing.backfill import backfill

    return backfill(load(load_settings(config=CONFIG)), store, TraceQuery(), dry_run=True).matched
