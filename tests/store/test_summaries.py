"""A trace's summary is the same however its spans arrive: in one batch, in several (each summarized on the converting
thread, `summarize`), several batches in one transaction (the background writer's), or spread over transactions."""

from __future__ import annotations

import random
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from llmtap.store import TraceQuery, open_store
from llmtap.store.convert import SpanRow, TracePart, summarize


def _spans() -> list:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test")
    for number in range(6):
        with tracer.start_as_current_span("workflow", attributes={"llmtap.tag.user": f"u{number}"}):
            for call in range(4):
                attributes = {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": f"model-{call % 3}",
                    "gen_ai.provider.name": ("openai", "anthropic")[call % 2],
                    "gen_ai.usage.input_tokens": 10 * call + number,
                    "gen_ai.usage.output_tokens": call,
                    "llmtap.tag.step": str(call),
                }
                with tracer.start_as_current_span("chat", kind=SpanKind.CLIENT, attributes=attributes) as span:
                    if call == number % 4:
                        span.set_status(Status(StatusCode.ERROR, "boom"))
    provider.shutdown()
    return list(memory.get_finished_spans())


def _expected(spans: list) -> dict[str, tuple]:
    """Each trace's summary row, every span counted one after the other in this order (no merging)."""
    parts: dict[str, TracePart] = {}
    for row in (SpanRow(span) for span in spans):
        parts.setdefault(row.trace_id, TracePart(row.trace_id)).add([row])
    return {trace_id: part.summary() for trace_id, part in parts.items()}


def _stored(store) -> dict[str, tuple]:
    return {row[0]: row for row in store._conn.execute("SELECT * FROM traces")}


def _batches(rng: random.Random, spans: list) -> list[list]:
    cuts = sorted(rng.sample(range(1, len(spans)), 4))
    return [spans[start:end] for start, end in zip([0, *cuts], [*cuts, len(spans)], strict=True)]


def test_summaries_merged_from_parts_equal_the_spans_counted_one_by_one(tmp_path: Path) -> None:
    spans = _spans()
    rng = random.Random(5)
    for round_number in range(8):
        order = spans[:]
        rng.shuffle(order)  # children before their root, roots in the middle of a batch
        expected = _expected(order)
        store = open_store(tmp_path / f"{round_number}.db")
        try:
            batches = [[SpanRow(span) for span in batch] for batch in _batches(rng, order)]
            for rows in batches:
                summarize(rows)  # on the converting thread
            with store.batch():  # the first two queued together: one transaction
                store.write_rows(batches[0] + batches[1])
            store.write_rows(batches[2])
            store.write_rows(batches[3] + batches[4])
            assert _stored(store) == expected
            facets = set(store._conn.execute("SELECT * FROM trace_facets"))
            assert len(facets) == 6 * (1 + 4 + 3 + 2)  # each trace: user, step (4 values), 3 models, 2 providers
            assert store.count_traces(TraceQuery(labels={"step": "3"}, model="model-2", provider="anthropic")) == 6
        finally:
            store.close()


def test_a_batch_partly_stored_before_is_summarized_from_the_spans_it_adds(tmp_path: Path) -> None:
    spans = _spans()
    store = open_store(tmp_path / "llmtap.db")
    try:
        store.write_spans(spans[::2])
        rows = [SpanRow(span) for span in spans]
        summarize(rows)  # counts every span; half of them are stored already
        assert store.write_rows(rows) == len(spans) - len(spans[::2])
        assert _stored(store) == _expected(spans[::2] + spans[1::2])
    finally:
        store.close()


def test_rows_summarized_together_and_stored_apart_are_counted_once(tmp_path: Path) -> None:
    spans = _spans()
    store = open_store(tmp_path / "llmtap.db")
    try:
        rows = [SpanRow(span) for span in spans]
        summarize(rows)  # every trace's part counts spans that the first write does not carry
        assert store.write_rows(rows[:7]) == 7
        assert store.write_rows(rows[7:]) == len(spans) - 7
        assert _stored(store) == _expected(spans)
        assert store.count_traces(TraceQuery()) == 6
    finally:
        store.close()
