from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

import llmtap
from llmtap.annotations import pending
from tests.support.environment import CAPTURE_ENV, clear_env
from tests.support.telemetry import Telemetry

SECRET = "test-secret-0123456789abcdef"

SCHEMA: dict[str, Any] = {
    "human_feedback": {
        "type": "categorical",
        "values": {"good": 1.0, "bad": 0.0},
        "version": 2,
        "description": "thumbs up / down",
    },
    "topic": {"type": "categorical", "values": ["billing", "tech"], "targets": ["span", "trace"]},
    "quality": {"type": "score", "min": 1, "max": 5, "integer": True, "explanation": "required"},
    "relevance": {"type": "score", "min": 0, "max": 1, "annotators": ["llm", "code"]},
    "resolved": {"type": "boolean", "targets": ["session"]},
    "correction": {"type": "text"},
    "reason_code": {"type": "text", "safe": True},
}
LABELS = {"message_id": {"type": "string"}, "user_id": {"type": "string"}, "human_feedback": {"type": "string"}}


class Annotating:
    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry
        self.log_exporter = InMemoryLogRecordExporter()
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter))

    def records(self) -> list[ReadableLogRecord]:
        return list(self.log_exporter.get_finished_logs())

    def only_record(self) -> ReadableLogRecord:
        records = self.records()
        assert len(records) == 1, [dict(record.log_record.attributes) for record in records]
        return records[0]


Setup = Callable[..., Annotating]


@pytest.fixture
def annotating(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    """`annotating(schema=..., capture_content=..., mode=...)`: llmtap into in-memory spans and log records."""
    clear_env(monkeypatch, CAPTURE_ENV, "LLMTAP_TAGS", "LLMTAP_LABELS_MODE", "LLMTAP_ANNOTATIONS_MODE")
    monkeypatch.setenv("LLMTAP_FEEDBACK_SECRET", SECRET)
    pending.set_holder(None)

    def setup(*, schema: Any = SCHEMA, capture_content: bool | None = None, mode: str | None = None) -> Annotating:
        if mode is not None:
            monkeypatch.setenv("LLMTAP_ANNOTATIONS_MODE", mode)
        state = Annotating(telemetry)
        llmtap.instrument(
            providers=["openai"],
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
            logger_provider=state.logger_provider,
            capture_content=capture_content,
            config={"annotations": schema, "labels": LABELS},
        )
        return state

    try:
        yield setup
    finally:
        llmtap.uninstrument()
        pending.set_holder(None)


def ids(span: Any) -> tuple[int, int]:
    return span.context.trace_id, span.context.span_id


def record_ids(record: ReadableLogRecord) -> tuple[int, int]:
    return record.log_record.trace_id, record.log_record.span_id
