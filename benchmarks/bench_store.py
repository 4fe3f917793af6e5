"""The local store: ingest throughput, query latency on a store of 1,000,000 spans, size per 1,000 model spans.

    .venv/bin/python benchmarks/bench_store.py            # full run (first run builds the big store: ~2-4 min)
    .venv/bin/python benchmarks/bench_store.py --quick    # small sizes (smoke; figures not meaningful)
    .venv/bin/python benchmarks/bench_store.py --json out.json
    .venv/bin/python benchmarks/bench_store.py --only ingest   # one part: ingest, queries or size (repeatable)

Workload: traces shaped like a RAG application's: `invoke_workflow answer` > `retrieval docs` + two `chat`
model spans (CLIENT, ~1.6 kB of captured input messages, ~0.4 kB output, system instructions, usage, response
metadata) + `execute_tool lookup`, five labels each (user_id of 1,000 users, session_id, prompt_version of 2,
tenant of 10, message_id unique), every span with its resource and scope - 5 spans per trace, made by the real
OpenTelemetry SDK and converted by the store's own code.

- ingest: `StoreSpanExporter.export` in batches of 512 (what `BatchSpanProcessor` hands it) on a fresh store file,
  from the first export until the exporter is shut down (every span stored and searchable, the store closed, its
  last WAL checkpoint included): spans/s wall clock and per CPU second, with the exporter writing in the background
  (what `instrument()` uses: conversion on the calling thread, SQLite on the exporter's writer thread) and on one
  thread (`background=False`); beside it the SDK's own cost of creating and ending the same spans (no processor),
  as a ratio, to show what the store costs relative to producing the spans in the first place.
- queries: on a store of 1,000,000 spans (200,000 traces) built once with the store's bulk path and cached
  outside the clone (`~/.cache/llmtap/bench-store-<n>-v<schema>.db`): the first page (50 traces) of
  `query_traces` with no filter, a common label (prompt_version, half the traces), a rare label (one user:
  0.1 %), a text search for a common word and for a rare word, and `get_trace` by an 8-digit id prefix.
  Each is timed cold (first call on a freshly opened store) and warm (median of repeats). A cached store of an
  older schema version is migrated forward (the store's own migrations) and renamed rather than rebuilt.
- size: bytes per 1,000 model spans (with captured content, and with content off), from the store's used pages.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind

from llmtap.store import TraceQuery, open_store, schema
from llmtap.store.convert import SpanRow, searchable_text
from llmtap.store.exporter import StoreSpanExporter
from llmtap.store.sqlite import SQLiteStore

WORDS = (
    "refund invoice shipping order account password delivery warranty discount subscription billing "
    "return exchange tracking payment address email phone support manager product size colour stock "
    "price tax receipt cancel upgrade downgrade plan trial coupon gift card balance statement"
).split()
RARE_WORD = "zanzibar"  # in one trace of every 2,000
SYSTEM = "You are a helpful support assistant for an online shop. Answer briefly and cite the documents."


class _Collect(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Any) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _messages(role: str, text: str, finish: str | None = None) -> str:
    message: dict[str, Any] = {"role": role, "parts": [{"type": "text", "content": text}]}
    if finish:
        message["finish_reason"] = finish
    return json.dumps([message])


def make_traces(count: int, *, seed: int = 1, content: bool = True) -> list[ReadableSpan]:
    """`count` RAG-shaped traces of 5 spans, through the real SDK."""
    rng = random.Random(seed)
    collect = _Collect()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "shop-assistant", "deployment.environment": "prod"})
    )
    provider.add_span_processor(SimpleSpanProcessor(collect))
    tracer = provider.get_tracer("llmtap", "0.1.0", schema_url="https://opentelemetry.io/schemas/1.37.0")
    for number in range(count):
        labels = {
            "llmtap.tag.user_id": f"u-{rng.randrange(1000)}",
            "llmtap.tag.session_id": f"s-{number // 4}",
            "llmtap.tag.prompt_version": rng.choice(("v1", "v2")),
            "llmtap.tag.tenant": f"t-{rng.randrange(10)}",
            "llmtap.tag.message_id": f"m-{number}",
        }
        question = _text(rng, 25) + (f" {RARE_WORD}" if number % 2000 == 7 else "")
        with tracer.start_as_current_span(
            "invoke_workflow answer", attributes={**labels, "gen_ai.operation.name": "invoke_workflow"}
        ):
            with tracer.start_as_current_span(
                "retrieval docs",
                attributes={**labels, "gen_ai.operation.name": "retrieval", "gen_ai.retrieval.query.text": question},
            ):
                pass
            for call in range(2):
                attributes = {
                    **labels,
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.response.id": f"chatcmpl-{number}-{call}",
                    "gen_ai.response.finish_reasons": ("stop",),
                    "gen_ai.request.temperature": 0.2,
                    "gen_ai.usage.input_tokens": 350 + rng.randrange(100),
                    "gen_ai.usage.output_tokens": 60 + rng.randrange(60),
                    "server.address": "api.openai.com",
                    "server.port": 443,
                }
                if content:
                    attributes["gen_ai.system_instructions"] = json.dumps([{"type": "text", "content": SYSTEM}])
                    attributes["gen_ai.input.messages"] = _messages(
                        "user", f"{question}\n\nDocuments:\n{_text(rng, 220)}"
                    )
                    attributes["gen_ai.output.messages"] = _messages("assistant", _text(rng, 55), "stop")
                with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=attributes):
                    pass
            with tracer.start_as_current_span(
                "execute_tool lookup",
                attributes={**labels, "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup"},
            ):
                pass
    provider.shutdown()
    return collect.spans


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _ingest_once(spans: list[ReadableSpan], folder: str, background: bool) -> tuple[float, float, float]:
    """(wall s, process CPU s, CPU s of the calling thread) to store `spans` in batches of 512 through the span
    exporter, from the first export until it is shut down (the store closed, its last checkpoint included)."""
    exporter = StoreSpanExporter(Path(folder) / "ingest.db", background=background)
    start, start_cpu, start_thread = time.perf_counter(), time.process_time(), time.thread_time()
    for index in range(0, len(spans), 512):
        exporter.export(spans[index : index + 512])
    exporter.shutdown()
    return time.perf_counter() - start, time.process_time() - start_cpu, time.thread_time() - start_thread


def bench_ingest(spans: list[ReadableSpan], repeats: int) -> dict[str, float]:
    rates = []
    cpu_rates = []
    thread_cpu = []
    one_thread_rates = []
    one_thread_cpu_rates = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            elapsed, cpu, caller = _ingest_once(spans, folder, background=True)
        rates.append(len(spans) / elapsed)
        cpu_rates.append(len(spans) / cpu)
        thread_cpu.append((caller / len(spans), (cpu - caller) / len(spans)))
        with tempfile.TemporaryDirectory() as folder:
            elapsed, cpu, _ = _ingest_once(spans, folder, background=False)
        one_thread_rates.append(len(spans) / elapsed)
        one_thread_cpu_rates.append(len(spans) / cpu)
    # The SDK's own cost of producing the same number of spans (start + end, attributes, no processor).
    provider = TracerProvider()
    tracer = provider.get_tracer("bench")
    attributes = dict(spans[2].attributes)
    start = time.process_time()
    for _ in range(len(spans)):
        with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=attributes):
            pass
    sdk_per_span = (time.process_time() - start) / len(spans)
    best = max(cpu_rates)
    caller, others = thread_cpu[cpu_rates.index(best)]
    return {
        "spans_per_s_best": max(rates),
        "spans_per_s_median": statistics.median(rates),
        "spans_per_cpu_s": best,
        "store_us_per_span": 1e6 / best,
        "convert_thread_us_per_span": caller * 1e6,
        "writer_threads_us_per_span": others * 1e6,
        "one_thread_spans_per_s_best": max(one_thread_rates),
        "one_thread_spans_per_cpu_s": max(one_thread_cpu_rates),
        "sdk_us_per_span": sdk_per_span * 1e6,
        "store_over_sdk": (1 / best) / sdk_per_span,
    }


def _build_base(tmp: Path, total_spans: int) -> SQLiteStore:
    """`total_spans` spans written by the store's own insert path in big transactions: a few hundred real traces
    made once, then copied with fresh ids, times, labels and words."""
    templates = [SpanRow(span) for span in make_traces(min(400, total_spans // 5), seed=7)]
    by_trace: dict[str, list[SpanRow]] = {}
    for row in templates:
        by_trace.setdefault(row.trace_id, []).append(row)
    shapes = list(by_trace.values())
    rng = random.Random(3)
    store = SQLiteStore(tmp)
    store._conn.execute("PRAGMA synchronous = OFF")
    base = 1_764_201_600 * 10**9 - total_spans // 5 * 3 * 10**9  # a trace every 3 s up to 2025-11-27
    trace_count = total_spans // 5
    batch: list[SpanRow] = []
    started = time.perf_counter()
    for number in range(trace_count):
        shape = shapes[number % len(shapes)]
        trace_id = f"{rng.getrandbits(128):032x}"
        offset = base + number * 3 * 10**9 - shape[0].start_ns
        span_ids = {row.span_id: f"{rng.getrandbits(64):016x}" for row in shape}
        user = f"u-{rng.randrange(1000)}"
        version = rng.choice(("v1", "v2"))
        rare = number % 2000 == 7
        for row in shape:
            clone = copy.copy(row)
            clone.trace_id = trace_id
            clone.span_id = span_ids[row.span_id]
            clone.parent_span_id = span_ids.get(row.parent_span_id) if row.parent_span_id else None
            clone.start_ns = row.start_ns + offset
            clone.end_ns = row.end_ns + offset
            clone.labels = {**row.labels, "user_id": user, "prompt_version": version, "message_id": f"m-{number}"}
            clone.attributes = (
                row.attributes.replace(f'"{row.labels["user_id"]}"', f'"{user}"', 1)
                .replace(f'"{row.labels["prompt_version"]}"', f'"{version}"', 1)
                .replace(f'"{row.labels["message_id"]}"', f'"m-{number}"', 1)
            )
            if rare and clone.text:
                clone.text = f"{clone.text} {RARE_WORD}"
                clone.attributes = clone.attributes.replace('"content":"', f'"content":"{RARE_WORD} ', 1)
            elif not rare and RARE_WORD in clone.text:
                clone.text = clone.text.replace(RARE_WORD, "refund")
                clone.attributes = clone.attributes.replace(RARE_WORD, "refund")
            clone.values = clone.row_values()
            clone.part = None  # its summary is computed when it is written
            batch.append(clone)
        if len(batch) >= 20_000 or number == trace_count - 1:
            with store._transaction() as conn:
                store._insert_rows(conn, batch)
            batch = []
            done = number + 1
            rate = done * 5 / (time.perf_counter() - started)
            print(f"\r  base: {done * 5:>9,} / {total_spans:,} spans ({rate:,.0f} spans/s)", end="", file=sys.stderr)
    print(file=sys.stderr)
    return store


BASE_SPANS = 20_000
PARTS = ("ingest", "queries", "size")


def build_big_store(path: Path, total_spans: int) -> None:
    """A store of `total_spans` spans: a base of up to 20,000 written by the store's own insert path, then copied
    inside SQLite (fresh trace and span ids, older times, the same summaries, facets and full text)."""
    tmp = path.with_suffix(".tmp")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    base_spans = min(BASE_SPANS, total_spans)
    store = _build_base(tmp, base_spans)
    conn = store._conn
    base_rows = conn.execute("SELECT max(rowid) FROM spans").fetchone()[0]
    span_min, span_max = conn.execute("SELECT min(start_ns), max(end_ns) FROM traces").fetchone()
    shift = span_max - span_min + 3 * 10**9
    lines: dict[int, list[str]] = {}  # the full-text rows, as the insert path wrote them (one per trace)
    for rowid, attributes, text_rowid in conn.execute("SELECT rowid, attributes, text_rowid FROM spans ORDER BY rowid"):
        if text := searchable_text(json.loads(attributes)):
            lines.setdefault(rowid if text_rowid is None else text_rowid, []).append(text)
    texts = [(rowid, "\n".join(text)) for rowid, text in lines.items()]
    copies = total_spans // base_spans
    new_id = "printf('%08x', {k}) || substr({column}, 9)"
    new_span = "printf('%04x', {k}) || substr({column}, 5)"
    for k in range(1, copies):
        with store._transaction():
            conn.execute(
                f"INSERT INTO spans SELECT rowid + {k * base_rows}, {new_id.format(k=k, column='trace_id')}, "
                f"{new_span.format(k=k, column='span_id')}, "
                f"CASE WHEN parent_span_id IS NULL THEN NULL ELSE {new_span.format(k=k, column='parent_span_id')} END, "
                f"name, kind, start_ns - {k * shift}, end_ns - {k * shift}, status_code, status_description, "
                "attributes, events, links, resource_id, scope_id, model, provider, is_model_call, input_tokens, "
                f"output_tokens, error, text_rowid + {k * base_rows} "
                f"FROM spans WHERE rowid <= {base_rows}"
            )
            conn.execute(
                f"INSERT INTO traces SELECT {new_id.format(k=k, column='trace_id')}, "
                f"{new_span.format(k=k, column='root_span_id')}, root_name, root_is_final, start_ns - {k * shift}, "
                f"end_ns - {k * shift}, span_count, model_calls, input_tokens, output_tokens, error, labels, models, "
                f"providers FROM traces WHERE start_ns >= {span_min}"
            )
            conn.execute(
                f"INSERT INTO trace_facets SELECT f.facet, f.value, {new_id.format(k=k, column='f.trace_id')} "
                f"FROM trace_facets f JOIN traces t ON t.trace_id = f.trace_id WHERE t.start_ns >= {span_min}"
            )
            conn.executemany(
                "INSERT INTO span_text (rowid, text) VALUES (?, ?)",
                [(rowid + k * base_rows, text) for rowid, text in texts],
            )
            conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'spans'", ((k + 1) * base_rows,))
        print(f"\r  copies: {(k + 1) * base_spans:>9,} / {total_spans:,} spans", end="", file=sys.stderr)
    print(file=sys.stderr)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    store.close()
    os.replace(tmp, path)


def _timed(store_path: Path, action: Any, repeats: int) -> tuple[float, float, Any]:
    store = open_store(store_path, create=False)
    start = time.perf_counter()
    result = action(store)
    cold = time.perf_counter() - start
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        action(store)
        samples.append(time.perf_counter() - start)
    store.close()
    return cold * 1000, _median_ms(samples), result


def bench_queries(path: Path, repeats: int) -> dict[str, dict[str, float]]:
    store = open_store(path, create=False)
    some = store.query_traces(TraceQuery(limit=1, offset=min(1234, store.count_traces() - 1)))[0].trace_id
    store.close()
    cases = {
        "first page, no filter": lambda s: s.query_traces(TraceQuery(limit=50)),
        "first page, label prompt_version=v2 (50 %)": lambda s: s.query_traces(
            TraceQuery(labels={"prompt_version": "v2"}, limit=50)
        ),
        "first page, label user_id=u-7 (0.1 %)": lambda s: s.query_traces(
            TraceQuery(labels={"user_id": "u-7"}, limit=50)
        ),
        "first page, search 'refund' (common)": lambda s: s.query_traces(TraceQuery(search="refund", limit=50)),
        f"first page, search '{RARE_WORD}' (rare)": lambda s: s.query_traces(TraceQuery(search=RARE_WORD, limit=50)),
        "first page, errors only (none)": lambda s: s.query_traces(TraceQuery(errors=True, limit=50)),
        "get_trace by 8-digit prefix": lambda s: s.get_trace(some[:8]),
    }
    out = {}
    for name, action in cases.items():
        cold, warm, result = _timed(path, action, repeats)
        rows = len(result) if isinstance(result, list) else len(result.spans)
        out[name] = {"cold_ms": cold, "warm_ms": warm, "rows": rows}
    return out


def bench_size(count: int) -> dict[str, float]:
    out = {}
    for content in (True, False):
        spans = [span for span in make_traces(count // 2, seed=5, content=content) if span.kind is SpanKind.CLIENT]
        with tempfile.TemporaryDirectory() as folder:
            empty = open_store(Path(folder) / "empty.db")
            baseline = empty.used_bytes()
            empty.close()
            store = open_store(Path(folder) / "size.db")
            store.write_spans(spans)
            store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            used = store.used_bytes() - baseline
            store.close()
        out["with content" if content else "content off"] = used / len(spans) * 1000
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run, figures not meaningful")
    parser.add_argument("--spans", type=int, default=None, help="size of the big store (default 1,000,000)")
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "llmtap", help="where the big store is kept"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write every figure as JSON")
    parser.add_argument(
        "--only", action="append", choices=PARTS, default=None, help="run only this part (repeatable; default all)"
    )
    args = parser.parse_args(argv)
    parts = args.only or PARTS
    total = args.spans or (1_000 if args.quick else 1_000_000)
    ingest_traces = 100 if args.quick else 4_000
    repeats = 2 if args.quick else 15

    import sqlite3

    print(
        f"llmtap store benchmark: Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start"
    )
    figures: dict[str, Any] = {}
    if "ingest" in parts:
        figures["ingest"] = _print_ingest(ingest_traces, 1 if args.quick else 3)
    if "queries" in parts:
        figures["queries"] = _print_queries(args.cache, total, repeats)
    if "size" in parts:
        figures["size_per_1000_model_spans"] = _print_size(100 if args.quick else 2_000)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def _print_ingest(ingest_traces: int, repeats: int) -> dict[str, float]:
    spans = make_traces(ingest_traces, seed=11)
    ingest = bench_ingest(spans, repeats)
    print(f"\ningest ({len(spans):,} spans, batches of 512, {ingest_traces:,} traces of 5 spans)")
    print(
        f"  {ingest['spans_per_s_best']:>10,.0f} spans/s best (wall clock), {ingest['spans_per_s_median']:,.0f} median"
    )
    print(f"  {ingest['spans_per_cpu_s']:>10,.0f} spans per CPU second (best)")
    print(
        f"  {ingest['store_us_per_span']:>10.1f} CPU µs per span in the store, {ingest['sdk_us_per_span']:.1f} for "
        f"the SDK to make the span: {ingest['store_over_sdk']:.2f}x (on the exporter's threads, not the application's)"
    )
    print(
        f"  {ingest['convert_thread_us_per_span']:>10.1f} of them on the processor's thread (conversion), "
        f"{ingest['writer_threads_us_per_span']:.1f} on the store's threads (SQLite writes, checkpoints)"
    )
    print(
        f"  {ingest['one_thread_spans_per_s_best']:>10,.0f} spans/s best written on one thread (background=False), "
        f"{ingest['one_thread_spans_per_cpu_s']:,.0f} per CPU second"
    )

    return ingest


def big_store(cache: Path, total: int) -> Path:
    """The cached store of `total` spans (`bench-store-<total>-v<schema>.db` in `cache`): built the first time, an
    older schema version's migrated forward and renamed (also used by bench_cli.py)."""
    cache.mkdir(parents=True, exist_ok=True)
    big = cache / f"bench-store-{total}-v{schema.SCHEMA_VERSION}.db"
    if not big.exists():
        older = [cache / f"bench-store-{total}-v{version}.db" for version in range(schema.SCHEMA_VERSION - 1, 0, -1)]
        found = next((path for path in older if path.exists()), None)
        if found is not None:
            print(f"\nmigrating {found} to schema version {schema.SCHEMA_VERSION}")
            open_store(found, create=False).close()
            os.replace(found, big)
        else:
            print(f"\nbuilding {big} ({total:,} spans, once)")
            build_big_store(big, total)
    return big


def _print_queries(cache: Path, total: int, repeats: int) -> dict[str, dict[str, float]]:
    big = big_store(cache, total)
    size_mb = big.stat().st_size / 1e6
    queries = bench_queries(big, repeats)
    print(
        f"\nqueries on {big} ({total:,} spans, {total // 5:,} traces, {size_mb:,.0f} MB), "
        f"cold / warm median of {repeats}"
    )
    for name, figures in queries.items():
        print(f"  {name:<45} {figures['cold_ms']:>8.1f} ms {figures['warm_ms']:>8.1f} ms   ({figures['rows']} rows)")

    return queries


def _print_size(count: int) -> dict[str, float]:
    size = bench_size(count)
    print("\nstore size per 1,000 model spans")
    for name, per_thousand in size.items():
        print(f"  {name:<15} {per_thousand / 1e6:>8.2f} MB")
    return size


if __name__ == "__main__":
    raise SystemExit(main())
