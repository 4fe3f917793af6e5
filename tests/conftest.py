from __future__ import annotations

from collections.abc import Iterator

import pytest

import llmtap
from tests.support.loopback import LoopbackAPI
from tests.support.telemetry import Telemetry


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    yield Telemetry()


@pytest.fixture
def instrumented(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    """llmtap instrumented with content capture on, writing to the in-memory pipeline."""
    for name in (
        "LLMTAP_CAPTURE_CONTENT",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        "LLMTAP_CONFIG",
        "LLMTAP_OPENAI_STREAM_USAGE",
        "LLMTAP_ENABLED",
        "OTEL_SDK_DISABLED",
        "LLMTAP_MAX_CONTENT_CHARS",
    ):
        monkeypatch.delenv(name, raising=False)
    llmtap.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, config={})
    try:
        yield telemetry
    finally:
        llmtap.uninstrument()


@pytest.fixture
def api() -> Iterator[LoopbackAPI]:
    with LoopbackAPI() as server:
        yield server
