from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import llmtap
from tests.support.environment import CAPTURE_ENV, clear_env
from tests.support.telemetry import Telemetry

Setup = Callable[..., Telemetry]

SCHEMA = {
    "user_id": {"type": "string", "required": True, "propagate": True, "description": "end user"},
    "session_id": {"type": "string"},
    "feature_flag": {"type": "enum", "values": ["new-rag", "old-rag"]},
    "retries": {"type": "int"},
    "temperature": {"type": "float"},
    "beta": {"type": "bool"},
    "app_feature": {"type": "string"},
    "user_segment": {"type": "enum", "values": ["free", "pro"], "propagate": True},
    "human_feedback": {"type": "enum", "values": ["good", "bad"]},
}


@pytest.fixture
def labelled(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    """`labelled(mode=..., tags=..., schema=...)`: llmtap instrumented into the in-memory pipeline."""
    clear_env(monkeypatch, CAPTURE_ENV, "LLMTAP_TAGS", "LLMTAP_LABELS_MODE", "LLMTAP_BACKEND_LABELS")

    def setup(*, mode: str | None = None, tags: str | None = None, schema: Any = SCHEMA) -> Telemetry:
        if mode is not None:
            monkeypatch.setenv("LLMTAP_LABELS_MODE", mode)
        if tags is not None:
            monkeypatch.setenv("LLMTAP_TAGS", tags)
        llmtap.instrument(
            providers=["openai"],
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
            config={"labels": schema} if schema else {},
        )
        return telemetry

    try:
        yield setup
    finally:
        llmtap.uninstrument()


def tag_attributes(span: Any) -> dict[str, Any]:
    """The label attributes of a finished span."""
    return {
        key: value
        for key, value in span.attributes.items()
        if key.startswith("llmtap.tag.") or key in ("user.id", "session.id")
    }
