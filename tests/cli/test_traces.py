"""`llmtap traces` through its real entry point: the JSON contract exactly, every filter, paging, the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from llmtap.cli import main
from llmtap.store import TraceQuery, open_store
from llmtap.store import sqlite as store_sqlite
from llmtap.store.exporter import StoreSpanExporter
from tests.cli.conftest import TRACE_A, TRACE_B, TRACE_C

SUMMARY_A = {
    "trace_id": TRACE_A,
    "start_time": "2025-11-27T09:00:00.000000Z",
    "duration_ms": 400.0,
    "root_name": "invoke_workflow support_turn",
    "labels": {"prompt_version": "v1", "user_id": "u-1"},
    "error": False,
    "input_tokens": 100,
    "output_tokens": 20,
    "models": ["gpt-4o-mini"],
    "providers": ["openai"],
    "span_count": 3,
    "model_calls": 1,
}
SUMMARY_B = {
    "trace_id": TRACE_B,
    "start_time": "2025-11-27T09:00:01.000000Z",
    "duration_ms": 900.0,
    "root_name": "invoke_workflow support_turn",
    "labels": {"prompt_version": "v2", "user_id": "u-2"},
    "error": True,
    "input_tokens": 60,
    "output_tokens": 12,
    "models": ["gpt-4o-mini", "claude-haiku-4-5"],
    "providers": ["openai", "anthropic"],
    "span_count": 4,
    "model_calls": 2,
}
SUMMARY_C = {
    "trace_id": TRACE_C,
    "start_time": "2025-11-27T09:00:02.000000Z",
    "duration_ms": 300.0,
    "root_name": "chat gpt-4o-mini",
    "labels": {"prompt_version": "v2", "user_id": "u-3"},
    "error": False,
    "input_tokens": 50,
    "output_tokens": 10,
    "models": ["gpt-4o-mini"],
    "providers": ["openai"],
    "span_count": 1,
    "model_calls": 1,
}


def run(*args: str, columns: int = 160) -> str:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": str(columns), "LINES": "40"})
    assert result.exit_code == 0, result.output
    return result.output


def test_json_is_the_documented_shape_newest_first(store_file: Path) -> None:
    assert json.loads(run("traces", "--store", str(store_file), "--json")) == [SUMMARY_C, SUMMARY_B, SUMMARY_A]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["--label", "prompt_version=v2"], [TRACE_C, TRACE_B]),
        (["--label", "prompt_version=v2", "--label", "user_id=u-2"], [TRACE_B]),
        (["--model", "claude-haiku-4-5"], [TRACE_B]),
        (["--provider", "openai"], [TRACE_C, TRACE_B, TRACE_A]),
        (["--errors"], [TRACE_B]),
        (["--min-latency", "400"], [TRACE_B, TRACE_A]),
        (["--min-tokens", "100"], [TRACE_A]),
        (["--since", "2025-11-27T09:00:01Z"], [TRACE_C, TRACE_B]),
        (["--until", "2025-11-27T09:00:01Z"], [TRACE_A]),
        (["--search", "frame size"], [TRACE_C]),
        (["--annotation", "user_feedback=thumbs_up"], [TRACE_C, TRACE_B]),
        (["--annotation", "user_feedback=thumbs_down", "--label", "prompt_version=v2"], []),
        (["--annotation", "user_feedback=thumbs_down,thumbs_up"], [TRACE_C, TRACE_B, TRACE_A]),  # either value
        (["--annotation", "helpfulness=2, 5.0"], [TRACE_C, TRACE_A]),
        (["--limit", "1", "--page", "2"], [TRACE_B]),
        (["--limit", "2", "--page", "2"], [TRACE_A]),
    ],
)
def test_filters_and_paging(store_file: Path, filters: list[str], expected: list[str]) -> None:
    found = json.loads(run("traces", "--store", str(store_file), "--json", *filters))
    assert [item["trace_id"] for item in found] == expected


def test_table(store_file: Path) -> None:
    lines = [line.rstrip() for line in run("traces", "--store", str(store_file), "--limit", "2").splitlines()]
    assert lines == [
        "traces 1-2 of 3, newest first",
        "trace     start (UTC)          root                          duration  tokens         models",
        "c3c3c3c3  2025-11-27 09:00:02  chat gpt-4o-mini                300 ms   50/10         gpt-4o-mini",
        "          prompt_version=v2 user_id=u-3",
        "b2b2b2b2  2025-11-27 09:00:01  invoke_workflow support_turn    900 ms   60/12  error  gpt-4o-mini "
        "claude-haiku-4-5",
        "          prompt_version=v2 user_id=u-2",
        "next page: llmtap traces --page 2 (same filters)",
        "a trace in full: llmtap show TRACE_ID (a unique prefix is enough)",
    ]


def test_default_limit_is_a_screenful(store_file: Path) -> None:
    result = CliRunner().invoke(main, ["traces", "--store", str(store_file)], env={"COLUMNS": "160", "LINES": "10"})
    assert result.output.splitlines()[0] == "traces 1-2 of 3, newest first"  # (10 lines - 6) / 2 lines a trace


def test_the_total_is_counted_up_to_ten_pages_ahead(tmp_path: Path) -> None:
    # An exact count of a common filter over a large store takes seconds; the listing says "more than" instead.
    path = tmp_path / "llmtap.db"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(path)))
    for number in range(23):
        with provider.get_tracer("t").start_as_current_span(f"step {number}", attributes={"llmtap.tag.k": "v"}):
            pass
    provider.shutdown()
    lines = CliRunner().invoke(main, ["traces", "--store", str(path), "--limit", "2"]).output.splitlines()
    assert lines[0] == "traces 1-2 of more than 20, newest first"
    lines = CliRunner().invoke(main, ["traces", "--store", str(path), "--limit", "2", "--page", "3"]).output
    assert lines.splitlines()[0] == "traces 5-6 of 23, newest first"
    lines = CliRunner().invoke(main, ["traces", "--store", str(path), "--limit", "3", "--label", "k=v"]).output
    assert lines.splitlines()[0] == "traces 1-3 of 23, newest first"
    store = open_store(path, create=False)
    assert (store.count_traces(), store.count_traces(at_most=5), store.count_traces(at_most=50)) == (23, 5, 23)
    store.close()


@pytest.mark.parametrize("rows_read", [20, 1], ids=["from-the-matches", "long-traces-one-by-one"])
def test_a_search_alone_is_counted_from_its_matches(
    tmp_path: Path, rows_read: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `--search` alone is counted from the full-text matches (each trace once, however many of its spans match);
    # with another filter, or when the matches read name too few traces, trace by trace: the same totals.
    monkeypatch.setattr(store_sqlite, "_SEARCH_COUNT_ROWS", rows_read)
    path = tmp_path / "llmtap.db"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(path)))
    tracer = provider.get_tracer("t")
    for number in range(12):
        with tracer.start_as_current_span("turn", attributes={"llmtap.tag.half": str(number % 2)}):
            for _ in range(number % 3 + 1):  # 1 to 3 matching spans a trace
                message = f"a refund for order {number}" if number % 4 else "a question about delivery"
                with tracer.start_as_current_span("chat", attributes={"gen_ai.input.messages": message}):
                    pass
    provider.shutdown()
    store = open_store(path, create=False)
    refund, delivery, half = TraceQuery(search="refund"), TraceQuery(search="delivery"), {"half": "1"}
    assert [store.count_traces(refund, at_most=cap) for cap in (1, 5, 9, 10, 100)] == [1, 5, 9, 9, 9]
    assert [store.count_traces(delivery, at_most=cap) for cap in (2, 3, 4)] == [2, 3, 3]
    assert store.count_traces(TraceQuery(search="refund order"), at_most=100) == 9
    assert store.count_traces(TraceQuery(search="parcel"), at_most=100) == 0
    assert store.count_traces(TraceQuery(search="refund", labels=half), at_most=100) == 6  # odd numbers: none % 4 == 0
    assert store.count_traces(refund) == 9
    store.close()
    lines = CliRunner().invoke(main, ["traces", "--store", str(path), "--limit", "2", "--search", "refund"]).output
    assert lines.splitlines()[0] == "traces 1-2 of 9, newest first"


def test_bad_input_is_named(store_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["traces", "--store", str(store_file), "--label", "prompt_version"])
    assert result.exit_code == 2
    assert "Error: Invalid value for --label: 'prompt_version': expected KEY=VALUE" in result.output
    result = runner.invoke(main, ["traces", "--store", str(store_file), "--since", "yesterday"])
    assert result.exit_code == 2
    assert "--since='yesterday': expected a date or time" in result.output
    missing = tmp_path / "none.db"
    result = runner.invoke(main, ["traces", "--store", str(missing)])
    assert result.exit_code == 1
    assert f"Error: no llmtap store at {missing}: run an instrumented application first" in result.output
    assert not missing.exists()
