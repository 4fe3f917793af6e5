"""The logger provider chain (given, global, from OTEL_LOGS_EXPORTER); through a real OTLP/HTTP receiver the
record carries the annotated span's trace and span ids."""

from __future__ import annotations

import subprocess
import sys

import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

import llmtap
from llmtap.annotations import emit
from tests.annotations.conftest import LABELS, SCHEMA
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry


def _received(api: LoopbackAPI) -> list[LogRecord]:
    records = []
    for request in api.requests:
        assert (request.method, request.path, request.headers["content-type"]) == (
            "POST",
            "/v1/logs",
            "application/x-protobuf",
        )
        message = ExportLogsServiceRequest.FromString(request.raw)
        for resource_logs in message.resource_logs:
            for scope_logs in resource_logs.scope_logs:
                assert scope_logs.scope.name == "llmtap"
                records.extend(scope_logs.log_records)
    return records


def _attributes(record: LogRecord) -> dict[str, object]:
    values = {}
    for item in record.attributes:
        kind = item.value.WhichOneof("value")
        values[item.key] = getattr(item.value, kind)
    return values


def _annotated_span(telemetry: Telemetry) -> llmtap.Annotation:
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        ref = span.ref
    return llmtap.annotate(ref, "human_feedback", "good", annotator="reviewer-7")


def _check(record: LogRecord, telemetry: Telemetry, annotation: llmtap.Annotation) -> None:
    span = telemetry.only_span()
    assert record.trace_id == span.context.trace_id.to_bytes(16, "big")
    assert record.span_id == span.context.span_id.to_bytes(8, "big")
    assert record.event_name == "gen_ai.evaluation.result"
    assert record.severity_number == 9  # INFO
    assert _attributes(record) == {
        "gen_ai.evaluation.name": "human_feedback",
        "gen_ai.evaluation.score.value": 1.0,
        "gen_ai.evaluation.score.label": "good",
        "llmtap.annotation.id": annotation.id,
        "llmtap.annotation.value": "good",
        "llmtap.annotation.annotator_kind": "human",
        "llmtap.annotation.annotator": "reviewer-7",
        "llmtap.annotation.schema_version": 2,
        "llmtap.annotation.target.kind": "span",
    }


def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LLMTAP_CAPTURE_CONTENT", "LLMTAP_CONFIG", "LLMTAP_ENABLED", "OTEL_SDK_DISABLED", "LLMTAP_TAGS"):
        monkeypatch.delenv(name, raising=False)


def test_through_the_logger_provider_given_to_instrument(
    api: LoopbackAPI, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clean(monkeypatch)
    api.route("POST", "/v1/logs", Reply(body={}))
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(f"{api.base_url}/v1/logs")))
    llmtap.instrument(
        providers=[],
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        logger_provider=logger_provider,
        config={"annotations": SCHEMA, "labels": LABELS},
    )
    try:
        annotation = _annotated_span(telemetry)
    finally:
        llmtap.uninstrument()
        logger_provider.shutdown()
    (record,) = _received(api)
    _check(record, telemetry, annotation)


def test_through_a_provider_built_from_otel_logs_exporter(
    api: LoopbackAPI, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clean(monkeypatch)
    api.route("POST", "/v1/logs", Reply(body={}))
    monkeypatch.setenv("OTEL_LOGS_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", f"{api.base_url}/v1/logs")
    llmtap.instrument(
        providers=[],
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        config={"annotations": SCHEMA, "labels": LABELS},
    )
    try:
        annotation = _annotated_span(telemetry)
        provider = emit.logger_provider()
        assert type(provider).__module__ == "opentelemetry.sdk._logs._internal"
        assert provider.force_flush()
    finally:
        llmtap.uninstrument()
    (record,) = _received(api)
    _check(record, telemetry, annotation)


GLOBAL_SCRIPT = """
from opentelemetry import _logs
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider
import llmtap

exporter = InMemoryLogRecordExporter()
provider = LoggerProvider()
provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
_logs.set_logger_provider(provider)
llmtap.instrument(tracer_provider=TracerProvider(), config={"annotations": {"ok": {"type": "boolean"}}})
llmtap.annotate("0af7651916cd43dd8448eb211c80319c", "ok", True)
[record] = exporter.get_finished_logs()
print(record.log_record.event_name, format(record.log_record.trace_id, "032x"))
"""


def test_through_the_global_logger_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OTEL_LOGS_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "LLMTAP_CONFIG",
    ):
        monkeypatch.delenv(name, raising=False)
    result = subprocess.run(
        [sys.executable, "-c", GLOBAL_SCRIPT], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout == "gen_ai.evaluation.result 0af7651916cd43dd8448eb211c80319c\n"
