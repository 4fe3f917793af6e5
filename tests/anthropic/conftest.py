from __future__ import annotations

from collections.abc import Iterator

import pytest
import vcr

from tests.support.anthropic_wire import CASSETTES

API_KEY = "sk-ant-api03-test-key-never-exported-0123456789"

cassettes = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    filter_headers=["x-api-key", "authorization"],
    match_on=["method", "scheme", "host", "port", "path", "query"],
)


@pytest.fixture(autouse=True)
def _no_native_tracing_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("ANTHROPIC_OPEN_TELEMETRY", "ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE"):
        monkeypatch.delenv(name, raising=False)
    yield
