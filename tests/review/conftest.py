from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import llmtap
import openai
from llmtap import runtime
from llmtap.config import Settings
from llmtap.store.exporter import StoreSpanExporter
from tests.support import openai_wire
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry

ANNOTATIONS = {
    "human_feedback": {"type": "categorical", "values": {"good": 1.0, "bad": 0.0}},
    "quality": {"type": "score", "min": 1, "max": 5, "integer": True},
    "grounded": {"type": "boolean"},
    "correction": {"type": "text"},
}
QUEUES = {
    "review": {"annotations": ["human_feedback", "correction"], "lease": "15m", "instructions": "Is it right?"},
    "pair": {"annotations": ["human_feedback", "quality", "grounded"], "reviewers": 2, "lease": "10m"},
}


@dataclass
class Traced:
    store_path: Path
    trace_ids: list[str]
    settings: Settings


def make_traces(api: LoopbackAPI, answers: list[str], *, question: str = "What is the capital of France?") -> list[str]:
    """One trace per answer: a workflow around a real openai SDK call to the loopback API."""
    client = openai.OpenAI(api_key="sk-test-review", base_url=f"{api.base_url}/v1", max_retries=0)
    trace_ids = []
    for number, answer in enumerate(answers):
        api.route(
            "POST",
            "/v1/chat/completions",
            Reply(body=openai_wire.chat_completion(answer, completion_id=f"chatcmpl-review{number:04d}")),
        )

        @llmtap.workflow(name="answer")
        def run() -> str:
            ref = llmtap.current_span_ref()
            assert ref is not None
            client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": question}],
            )
            return ref.trace_id

        trace_ids.append(run())
    return trace_ids


@pytest.fixture
def traced(
    telemetry: Telemetry, api: LoopbackAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Traced]]:
    """Instrument llmtap (content captured) writing spans to a store file; make traces with the openai SDK."""
    for name in ("LLMTAP_CAPTURE_CONTENT", "LLMTAP_CONFIG", "LLMTAP_ENABLED", "OTEL_SDK_DISABLED", "LLMTAP_TAGS"):
        monkeypatch.delenv(name, raising=False)
    store_path = tmp_path / "llmtap.db"
    monkeypatch.setenv("LLMTAP_STORE", str(store_path))
    telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(store_path)))

    def start(answers: list[str], **tables: Any) -> Traced:
        config = {"annotations": ANNOTATIONS, "queues": QUEUES, "capture_content": True, **tables}
        llmtap.instrument(
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
            logger_provider=telemetry.logger_provider,
            config=config,
        )
        trace_ids = make_traces(api, answers)
        assert telemetry.tracer_provider.force_flush(10_000)
        return Traced(store_path, trace_ids, runtime.current_settings())

    yield start
    llmtap.uninstrument()
    telemetry.tracer_provider.shutdown()
