"""The store's span conversion: the fast paths give exactly what the simple definitions give."""

from __future__ import annotations

import json
import random
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from llmtap.store import TraceQuery, open_store
from llmtap.store.convert import _PAIR, _pairs, loads, searchable_text
from llmtap.store.exporter import StoreSpanExporter

# Characters that make the pair scan hard: quotes, escapes, colons, whitespace the expression's \s matches.
ALPHABET = ['"', "\\", ":", " ", "\n", "\t", "\u00a0", "\x1c", "a", "é", "{", "}", "[", "]", ","]


def _value(rng: random.Random, depth: int = 0) -> object:
    choice = rng.randrange(6 if depth < 3 else 3)
    if choice == 0:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(8)))
    if choice == 1:
        return rng.randrange(100)
    if choice == 2:
        return None
    if choice == 3:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {"".join(rng.choice(ALPHABET) for _ in range(rng.randrange(5))): _value(rng, depth + 1) for _ in range(3)}


def test_the_pair_scan_finds_exactly_what_the_expression_finds() -> None:
    # The full-text index is contentless: purge must compute the very text ingest indexed, so the split-based scan
    # has to agree with the regular expression on any text, JSON or not.
    rng = random.Random(7)
    texts = ["".join(rng.choice(ALPHABET) for _ in range(rng.randrange(30))) for _ in range(20_000)]
    texts += [
        json.dumps(_value(rng), ensure_ascii=rng.random() < 0.5, indent=rng.choice((None, 1))) for _ in range(5_000)
    ]
    mismatches = [text for text in texts if _pairs(text) != _PAIR.findall(text)]
    assert mismatches == []


def test_searchable_text_of_messages_with_escapes_quotes_and_plain_values() -> None:
    messages = json.dumps(
        [
            {"role": "user", "parts": [{"type": "text", "content": 'Say "hi"\nthen stop'}]},
            {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "lookup"}]},
        ]
    )
    attributes = {
        "gen_ai.input.messages": messages,
        "gen_ai.output.messages": '[{"role":"assistant","parts":[{"type":"text","content":"Olá\\n"}]}]',
        "gen_ai.retrieval.query.text": "where is my order",
        "gen_ai.tool.call.arguments": {"city": "Paris", "days": ["mon", "tue"]},
    }
    assert searchable_text(attributes) == 'Say "hi"\nthen stop\nlookup\nOlá\n\nParis\nmon\ntue\nwhere is my order'


def test_values_orjson_refuses_are_stored_and_read_back(tmp_path: Path) -> None:
    # Integers beyond 64 bits and strings with a lone surrogate take the standard library's encoder.
    path = tmp_path / "llmtap.db"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(path)))
    attributes = {"big": 2**70, "odd": "a\ud800b", "llmtap.tag.user_id": "u-1", "gen_ai.operation.name": "chat"}
    with provider.get_tracer("t").start_as_current_span("chat m", kind=SpanKind.CLIENT, attributes=attributes):
        pass
    provider.shutdown()
    store = open_store(path, create=False)
    [summary] = store.query_traces(TraceQuery(labels={"user_id": "u-1"}))
    [span] = store.get_trace(summary.trace_id).spans
    store.close()
    assert span.attributes == attributes


def test_model_calls_stream_past_a_chunk_in_start_order_and_nan_stored_by_older_versions_reads(tmp_path: Path) -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    for number in range(2_345):  # more than one chunk of 2,000 rows
        attributes = {"gen_ai.operation.name": "chat", "llmtap.tag.n": number, "llmtap.usage.cost": number / 100}
        with tracer.start_as_current_span("chat m", kind=SpanKind.CLIENT, attributes=attributes, start_time=number):
            pass
    provider.shutdown()
    store = open_store(tmp_path / "llmtap.db")
    assert store.write_spans(memory.get_finished_spans()) == 2_345
    calls = list(store.model_calls())
    assert [(call.labels, call.cost) for call in calls] == [({"n": str(n)}, n / 100) for n in range(2_345)]
    # json.dumps wrote a float NaN as the bare word NaN, which orjson refuses: read with the standard library.
    store._conn.execute("UPDATE spans SET attributes = ? WHERE rowid = 1", ('{"x": NaN, "llmtap.tag.n": "0"}',))
    assert next(store.model_calls()).labels == {"n": "0"}
    assert loads('{"x": NaN}')["x"] != loads('{"x": NaN}')["x"]  # NaN
    store.close()


def test_system_instructions_found_once_give_the_same_text_every_time() -> None:
    instructions = json.dumps([{"type": "text", "content": "Be brief.\nCite sources."}])
    first = {"gen_ai.system_instructions": instructions, "gen_ai.input.messages": "[]"}
    second = {"gen_ai.system_instructions": instructions, "gen_ai.retrieval.query.text": "refunds"}
    assert searchable_text(first) == "Be brief.\nCite sources."
    assert searchable_text(second) == "Be brief.\nCite sources.\nrefunds"
    assert searchable_text(first) == "Be brief.\nCite sources."
    assert searchable_text({"gen_ai.system_instructions": "[]"}) == ""
