"""Runs the demo's traffic through the instrumented application into a store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import llmtap
from llmtap.demo.app import SupportBot
from llmtap.demo.recorded import RecordedAPI
from llmtap.demo.traffic import TURNS, Turn
from llmtap.refs import SpanRef
from llmtap.store.exporter import StoreLogExporter, StoreSpanExporter

SERVICE = "velora-support"
# The application's llmtap settings (what `[tool.llmtap]` in its pyproject.toml would hold).
CONFIG: dict[str, Any] = {
    "labels": {
        "user_id": {"type": "string", "description": "the customer"},
        "session_id": {"type": "string"},
        "segment": {"type": "enum", "values": ["free", "pro"], "description": "the customer's plan"},
        "prompt_version": {"type": "enum", "values": ["v1", "v2"], "description": "the answer prompt (A/B)"},
    },
    "annotations": {
        "user_feedback": {
            "type": "categorical",
            "values": {"thumbs_up": 1.0, "thumbs_down": 0.0},
            "annotators": ["end_user"],
            "targets": ["span"],
            "description": "the customer's thumbs up / down on an answer",
        },
    },
}


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
