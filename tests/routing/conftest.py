from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import llmtap
import openai
from llmtap.store import open_store
from llmtap.store.exporter import StoreSpanExporter
from tests.support import openai_wire
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
ANNOTATIONS = {"human_feedback": {"type": "categorical", "values": {"good": 1.0, "bad": 0.0}}}
LABELS = {"feature": {"type": "enum", "values": ["checkout", "search"]}}


class App:
    """A small application instrumented by llmtap with routes, writing its spans to a store file."""

    def __init__(self, telemetry: Telemetry, api: LoopbackAPI, store_path: Path) -> None:
        self.telemetry = telemetry
        self.api = api
        self.store_path = store_path
        self.client = openai.OpenAI(api_key="sk-test-routing", base_url=f"{api.base_url}/v1", max_retries=0)
        api.route("POST", "/v1/chat/completions", Reply(body=openai_wire.chat_completion("Paris.")))

    def answer(self, feature: str = "search", *, fail: bool = False) -> llmtap.SpanRef:
        """One trace: a workflow with a model call (failing with a 500 when `fail`)."""
        if fail:
            error = openai_wire.error_body("The server had an error.", kind="server_error", code=None)
            self.api.route("POST", "/v1/chat/completions", Reply(status=500, body=error))

        @llmtap.workflow(name="answer")
        def run() -> llmtap.SpanRef:
            ref = llmtap.current_span_ref()
            assert ref is not None
            try:
                self.client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
            except openai.InternalServerError:
                pass
            return ref

        with llmtap.tags(feature=feature):
            ref = run()
        self.api.route("POST", "/v1/chat/completions", Reply(body=openai_wire.chat_completion("Paris.")))
        return ref

    def flush(self) -> None:
        assert self.telemetry.tracer_provider.force_flush(10_000)

    def store(self) -> Any:
        return open_store(self.store_path)


@pytest.fixture
def routed(telemetry: Telemetry, api: LoopbackAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("LLMTAP_CAPTURE_CONTENT", "LLMTAP_CONFIG", "LLMTAP_ENABLED", "OTEL_SDK_DISABLED", "LLMTAP_TAGS"):
        monkeypatch.delenv(name, raising=False)
    store_path = tmp_path / "llmtap.db"
    monkeypatch.setenv("LLMTAP_STORE", str(store_path))
    telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(store_path)))

    def start(routes: list[dict[str, Any]], **tables: Any) -> App:
        config = {"routes": routes, "annotations": ANNOTATIONS, "labels": LABELS, **tables}
        llmtap.instrument(
            tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, config=config
        )
        return App(telemetry, api, store_path)

    yield start
    llmtap.uninstrument()
    telemetry.tracer_provider.shutdown()


Start = Callable[..., App]
