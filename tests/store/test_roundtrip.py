"""Spans and annotations go into the store through the real OTel pipeline and come back field for field."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode

from llmtap.store import StoredAnnotation, TraceQuery, open_store
from llmtap.store import sqlite as store_sqlite
from llmtap.store.exporter import StoreLogExporter, StoreSpanExporter

ATTRIBUTES = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.request.temperature": 0.25,
    "gen_ai.request.stream": False,
    "gen_ai.usage.input_tokens": 12,
    "gen_ai.usage.output_tokens": 5,
    "gen_ai.response.finish_reasons": ("stop", "length"),
    "gen_ai.request.stop_sequences": (),
    "llmtap.ints": (1, 2, 3),
    "llmtap.floats": (0.5, 1.5),
    "llmtap.bools": (True, False),
    "llmtap.tag.user_id": "u-1",
    "llmtap.tag.beta": True,
    "llmtap.tag.tier": 3,
    "gen_ai.input.messages": json.dumps(
        [{"role": "user", "parts": [{"type": "text", "content": "Où est la tour Eiffel? 🗼"}]}], ensure_ascii=False
    ),
    "gen_ai.output.messages": json.dumps(
        [{"role": "assistant", "parts": [{"type": "text", "content": "In Paris."}], "finish_reason": "stop"}]
    ),
}


def _pipeline(path: Path) -> tuple[TracerProvider, InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "shop", "deployment.environment": "test"}, schema_url="https://s/1")
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(BatchSpanProcessor(StoreSpanExporter(path)))
    return provider, memory


def _emit(provider: TracerProvider) -> None:
    tracer = provider.get_tracer(
        "app.scope", "2.1", schema_url="https://opentelemetry.io/schemas/1.37.0", attributes={"scope.kind": "test"}
    )
    with tracer.start_as_current_span("invoke_workflow answer", attributes={"llmtap.tag.user_id": "u-1"}) as root:
        with tracer.start_as_current_span(
            "chat gpt-4o-mini",
            kind=SpanKind.CLIENT,
            attributes=ATTRIBUTES,
            links=[Link(root.get_span_context(), {"link.why": "because"})],
        ) as span:
            span.add_event(
                "gen_ai.content.chunk", {"index": 1, "parts": ("a", "b")}, timestamp=1_700_000_000_000_000_123
            )
            span.add_event("exception", {"exception.type": "TimeoutError", "exception.message": "slow"})
            span.set_status(Status(StatusCode.ERROR, "TimeoutError"))
    provider.force_flush()


def test_every_span_field_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "state" / "llmtap.db"
    provider, memory = _pipeline(path)
    _emit(provider)
    provider.shutdown()

    originals = sorted(memory.get_finished_spans(), key=lambda span: span.start_time)
    store = open_store(path)
    [summary] = store.query_traces()
    detail = store.get_trace(summary.trace_id)
    assert len(detail.spans) == 2
    for original, stored in zip(originals, detail.spans, strict=True):
        assert stored.trace_id == format(original.context.trace_id, "032x")
        assert stored.span_id == format(original.context.span_id, "016x")
        assert stored.parent_span_id == (format(original.parent.span_id, "016x") if original.parent else None)
        assert stored.name == original.name
        assert stored.kind == original.kind.name
        assert (stored.start_time_ns, stored.end_time_ns) == (original.start_time, original.end_time)
        assert (stored.status_code, stored.status_description) == (
            original.status.status_code.name,
            original.status.description,
        )
        assert stored.attributes == {
            key: list(value) if isinstance(value, tuple) else value for key, value in original.attributes.items()
        }
        assert stored.events == [
            {
                "name": event.name,
                "time_ns": event.timestamp,
                "attributes": {k: list(v) if isinstance(v, tuple) else v for k, v in event.attributes.items()},
            }
            for event in original.events
        ]
        assert stored.links == [
            {
                "trace_id": format(link.context.trace_id, "032x"),
                "span_id": format(link.context.span_id, "016x"),
                "attributes": dict(link.attributes),
            }
            for link in original.links
        ]
        assert stored.resource == {"attributes": dict(original.resource.attributes), "schema_url": "https://s/1"}
        scope: InstrumentationScope = original.instrumentation_scope
        assert stored.scope == {
            "name": "app.scope",
            "version": "2.1",
            "schema_url": "https://opentelemetry.io/schemas/1.37.0",
            "attributes": dict(scope.attributes),
        }
    model = detail.spans[1]
    assert model.events[0] == {
        "name": "gen_ai.content.chunk",
        "time_ns": 1_700_000_000_000_000_123,
        "attributes": {"index": 1, "parts": ["a", "b"]},
    }
    assert model.attributes["gen_ai.input.messages"] == ATTRIBUTES["gen_ai.input.messages"]
    assert model.attributes["gen_ai.request.stop_sequences"] == []
    assert model.links[0]["attributes"] == {"link.why": "because"}

    root = originals[0]
    assert summary.as_dict() == {
        "trace_id": format(root.context.trace_id, "032x"),
        "start_time": summary.as_dict()["start_time"],
        "duration_ms": round((root.end_time - root.start_time) / 1e6, 3),
        "root_name": "invoke_workflow answer",
        "labels": {"user_id": "u-1", "beta": "true", "tier": "3"},
        "error": True,
        "input_tokens": 12,
        "output_tokens": 5,
        "models": ["gpt-4o-mini"],
        "providers": ["openai"],
        "span_count": 2,
        "model_calls": 1,
    }
    assert summary.root_span_id == format(root.context.span_id, "016x")
    assert summary.start_time_ns == root.start_time
    store.close()


def test_store_file_and_directory_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "llmtap.db"
    open_store(path).close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path.parent.parent).st_mode) == 0o700


def test_a_span_exported_twice_is_stored_and_counted_once(tmp_path: Path) -> None:
    provider, memory = _pipeline(tmp_path / "llmtap.db")
    _emit(provider)
    provider.shutdown()
    store = open_store(tmp_path / "llmtap.db")
    assert store.write_spans(memory.get_finished_spans()) == 0
    [summary] = store.query_traces()
    assert (summary.span_count, summary.model_calls, summary.input_tokens) == (2, 1, 12)
    assert store.info().span_count == 2


@pytest.mark.parametrize(
    ("few", "search_range"),
    [(2000, 1000), (0, 1000), (0, 0)],
    ids=["filters-as-id-lists", "filters-trace-by-trace", "search-span-by-span"],
)
def test_filters(tmp_path: Path, few: int, search_range: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # A filter matching few traces is applied as a list of ids, one matching many trace by trace (newest first);
    # both ways give the same answer. (`_FEW` is the boundary: 0 makes every filter take the second way.) A search
    # checked trace by trace looks a trace's spans up together when their rowids lie within `_SEARCH_RANGE_MAX`,
    # else one by one (0: always one by one).
    monkeypatch.setattr(store_sqlite, "_FEW", few)
    monkeypatch.setattr(store_sqlite, "_SEARCH_RANGE_MAX", search_range)
    provider, _ = _pipeline(tmp_path / "llmtap.db")
    _emit(provider)
    tracer = provider.get_tracer("other")
    with tracer.start_as_current_span("plain", attributes={"llmtap.tag.user_id": "u-2"}):
        pass
    provider.shutdown()
    store = open_store(tmp_path / "llmtap.db")
    chat, plain = sorted(store.query_traces(), key=lambda summary: summary.root_name)
    ids = {
        name: [summary.trace_id for summary in store.query_traces(query)]
        for name, query in {
            "all": TraceQuery(),
            "label": TraceQuery(labels={"user_id": "u-1"}),
            "bool label": TraceQuery(labels={"beta": "true", "tier": "3"}),
            "other label": TraceQuery(labels={"user_id": "u-2"}),
            "request model": TraceQuery(model="gpt-4o-mini"),
            "response model": TraceQuery(model="gpt-4o-mini-2024-07-18"),
            "provider": TraceQuery(provider="openai"),
            "errors": TraceQuery(errors=True),
            "slow": TraceQuery(min_latency_ms=0),
            "too slow": TraceQuery(min_latency_ms=60_000),
            "tokens": TraceQuery(min_tokens=17),
            "too many tokens": TraceQuery(min_tokens=18),
            "search": TraceQuery(search="tour eiffel"),
            "search reply": TraceQuery(search="PARIS"),
            "search structure": TraceQuery(search="assistant"),
            "no match": TraceQuery(search="London"),
            "page 2": TraceQuery(limit=1, offset=1),
        }.items()
    }
    assert ids == {
        "all": [plain.trace_id, chat.trace_id],
        "label": [chat.trace_id],
        "bool label": [chat.trace_id],
        "other label": [plain.trace_id],
        "request model": [chat.trace_id],
        "response model": [chat.trace_id],
        "provider": [chat.trace_id],
        "errors": [chat.trace_id],
        "slow": [plain.trace_id, chat.trace_id],
        "too slow": [],
        "tokens": [chat.trace_id],
        "too many tokens": [],
        "search": [chat.trace_id],
        "search reply": [chat.trace_id],
        "search structure": [],
        "no match": [],
        "page 2": [chat.trace_id],
    }
    assert store.count_traces(TraceQuery(labels={"user_id": "u-1"})) == 1
    assert store.get_trace(chat.trace_id[:5]).trace_id == chat.trace_id
    [call] = store.model_calls(TraceQuery(labels={"user_id": "u-1"}))
    assert (call.trace_id, call.name, call.model, call.provider, call.input_tokens, call.output_tokens, call.error) == (
        chat.trace_id,
        "chat gpt-4o-mini",
        "gpt-4o-mini",
        "openai",
        12,
        5,
        True,
    )
    assert call.labels == {"user_id": "u-1", "beta": "true", "tier": "3"}
    assert list(store.model_calls(TraceQuery(labels={"user_id": "u-2"}))) == []


def test_annotations_round_trip_and_pending_join_keys_resolve_when_the_span_arrives(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    store = open_store(path)
    waiting = StoredAnnotation(
        annotation_id="ann-2",
        name="human_feedback",
        value="good",
        label="good",
        explanation="helpful",
        annotator="web",
        annotator_kind="end_user",
        schema_version=1,
        target={"kind": "span", "join": {"label": "user_id", "value": "u-1"}},
        metadata={"page": "/chat", "n": 2},
        attributes={"gen_ai.evaluation.name": "human_feedback"},
        time_ns=1_700_000_000_000_000_000,
    )
    assert store.write_annotations([waiting]) == 0
    assert store.pending_annotations() == [waiting]

    provider, memory = _pipeline(path)
    _emit(provider)
    provider.shutdown()
    root = min(memory.get_finished_spans(), key=lambda span: span.start_time)
    trace_id, root_id = format(root.context.trace_id, "032x"), format(root.context.span_id, "016x")
    direct = StoredAnnotation(
        annotation_id="ann-1",
        name="score",
        value=4.0,
        score=4.0,
        trace_id=trace_id,
        target={"trace_id": trace_id},
        time_ns=1_600_000_000_000_000_000,
    )
    assert store.write_annotations([direct]) == 1
    assert store.pending_annotations() == []
    resolved = StoredAnnotation(
        **{
            **waiting.__dict__,
            "trace_id": trace_id,
            "span_id": root_id,
            "target": {**waiting.target, "trace_id": trace_id, "span_id": root_id},
        }
    )
    assert store.get_trace(trace_id).annotations == [direct, resolved]
    assert store.annotations() == [direct, resolved]
    assert [t.trace_id for t in store.query_traces(TraceQuery(annotations={"human_feedback": "good"}))] == [trace_id]
    assert [t.trace_id for t in store.query_traces(TraceQuery(annotations={"score": "4"}))] == [trace_id]
    assert store.query_traces(TraceQuery(annotations={"human_feedback": "bad"})) == []
    [annotated] = store.annotated_traces("human_feedback")
    assert annotated.annotation == resolved
    assert annotated.labels == {"user_id": "u-1", "beta": "true", "tier": "3"}


def test_annotation_log_records_round_trip_through_the_log_exporter(tmp_path: Path) -> None:
    """Records as `llmtap.annotate()` emits them: semconv `gen_ai.evaluation.*` plus `llmtap.annotation.*`."""
    path = tmp_path / "llmtap.db"
    provider, memory = _pipeline(path)
    _emit(provider)
    provider.shutdown()
    root = min(memory.get_finished_spans(), key=lambda span: span.start_time)
    logs = LoggerProvider()
    logs.add_log_record_processor(BatchLogRecordProcessor(StoreLogExporter(path)))
    logger = logs.get_logger("llmtap")
    span_context = SpanContext(root.context.trace_id, root.context.span_id, is_remote=False)
    logger.emit(
        timestamp=1_764_201_600_000_000_000,
        context=trace.set_span_in_context(NonRecordingSpan(span_context)),
        severity_number=SeverityNumber.INFO,
        event_name="gen_ai.evaluation.result",
        attributes={
            "gen_ai.evaluation.name": "helpfulness",
            "gen_ai.evaluation.score.value": 0.75,
            "gen_ai.evaluation.score.label": "mostly",
            "gen_ai.evaluation.explanation": "answered, a bit long",
            "llmtap.annotation.id": "ann-9",
            "llmtap.annotation.value": "mostly",
            "llmtap.annotation.annotator": "judge-1",
            "llmtap.annotation.annotator_kind": "llm",
            "llmtap.annotation.schema_version": 2,
            "llmtap.annotation.target.kind": "span",
            "llmtap.annotation.metadata": '{"model": "gpt-4o", "run": 3}',
        },
    )
    logger.emit(event_name="app.other", attributes={"x": 1})  # not an annotation: ignored
    logger.emit(  # a join key no stored span has: kept pending
        timestamp=1_764_201_600_000_000_001,
        context=trace.set_span_in_context(trace.INVALID_SPAN),
        event_name="gen_ai.evaluation.result",
        attributes={
            "gen_ai.evaluation.name": "thumbs",
            "llmtap.annotation.id": "ann-10",
            "llmtap.annotation.value": True,
            "gen_ai.evaluation.score.label": "true",
            "llmtap.annotation.annotator_kind": "end_user",
            "llmtap.annotation.target.kind": "span",
            "llmtap.annotation.join.label": "message_id",
            "llmtap.annotation.join.value": "m-1",
        },
    )
    logs.shutdown()
    trace_id, span_id = format(root.context.trace_id, "032x"), format(root.context.span_id, "016x")
    store = open_store(path)
    [stored] = store.annotations()
    assert stored.as_dict() == {
        "annotation_id": "ann-9",
        "name": "helpfulness",
        "value": "mostly",
        "trace_id": trace_id,
        "span_id": span_id,
        "score": 0.75,
        "label": "mostly",
        "explanation": "answered, a bit long",
        "annotator": "judge-1",
        "annotator_kind": "llm",
        "schema_version": 2,
        "target": {"kind": "span", "trace_id": trace_id, "span_id": span_id},
        "metadata": {"model": "gpt-4o", "run": 3},
        "attributes": stored.attributes,
        "time_ns": 1_764_201_600_000_000_000,
        "time": "2025-11-27T00:00:00.000000Z",
        "id": "ann-9",
        "created_at": "2025-11-27T00:00:00.000000Z",
    }
    assert stored.attributes["llmtap.annotation.annotator"] == "judge-1"
    [pending] = store.pending_annotations()
    assert (pending.id, pending.value, pending.trace_id, pending.target) == (
        "ann-10",
        True,
        None,
        {"kind": "span", "join": {"label": "message_id", "value": "m-1"}},
    )
