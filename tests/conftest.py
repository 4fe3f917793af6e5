from __future__ import annotations

from collections.abc import Iterator

import pytest

import llmtap
from tests.support.environment import CAPTURE_ENV, clean_env, clear_env
from tests.support.loopback import LoopbackAPI
from tests.support.telemetry import Telemetry


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    yield Telemetry()


@pytest.fixture
def fresh(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    """No setting variable set; llmtap uninstrumented after the test (which instruments it as it needs)."""
    clean_env(monkeypatch)
    try:
        yield telemetry
    finally:
        llmtap.uninstrument()


@pytest.fixture
def instrumented(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    """llmtap instrumented with content capture on, writing to the in-memory pipeline."""
    clear_env(monkeypatch, CAPTURE_ENV, "LLMTAP_OPENAI_STREAM_USAGE")
    llmtap.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, config={})
    try:
        yield telemetry
    finally:
        llmtap.uninstrument()


@pytest.fixture
def api() -> Iterator[LoopbackAPI]:
    with LoopbackAPI() as server:
        yield server
