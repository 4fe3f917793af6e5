"""`llmtap demo` through its real entry point: the app runs offline into a store, and what it prints is read back
from that store (traces, one trace in full, stats by prompt version, next commands)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmtap.cli import main
from llmtap.demo.traffic import TURNS
from llmtap.store import TraceQuery, open_store


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo run once in a working directory with its default store (`.llmtap/demo.db`), where an old file
    of that name is in the way: the demo starts from a fresh store."""
    cwd = tmp_path_factory.mktemp("demo")
    (cwd / ".llmtap").mkdir()
    (cwd / ".llmtap" / "demo.db").write_text("an old demo store")
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, ["demo"], env={"COLUMNS": "140", "LLMTAP_CAPTURE_CONTENT": None})
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return cwd / ".llmtap" / "demo.db", result.output


def test_every_turn_is_one_labelled_trace(demo_run: tuple[Path, str]) -> None:
    path, _ = demo_run
    store = open_store(path, create=False)
    try:
        summaries = store.query_traces(TraceQuery(limit=100))
        assert len(summaries) == len(TURNS) == 12
        assert {summary.root_name for summary in summaries} == {"invoke_workflow support_turn"}
        asked = sorted((t.customer.user_id, t.customer.segment, t.customer.prompt_version) for t in TURNS)
        labelled = sorted((s.labels["user_id"], s.labels["segment"], s.labels["prompt_version"]) for s in summaries)
        assert labelled == asked
        assert all(summary.labels["session_id"] == f"s-{summary.labels['user_id']}" for summary in summaries)
        assert [summary.error for summary in summaries].count(True) == 1
        feedback = [
            (item.labels["prompt_version"], item.annotation.value) for item in store.annotated_traces("user_feedback")
        ]
        assert sorted(feedback) == sorted((t.customer.prompt_version, t.feedback) for t in TURNS)
        first = store.annotations(summaries[-1].trace_id)
        assert [(a.name, a.annotator, a.annotator_kind, a.span_id) for a in first] == [
            ("user_feedback", "u-101", "end_user", store.get_trace(summaries[-1].trace_id).spans[0].span_id)
        ]
        assert store.count_traces(TraceQuery(labels={"prompt_version": "v2"}, errors=True)) == 1
        assert store.count_traces(TraceQuery(search="frame size")) == 2
        assert store.count_traces(TraceQuery(provider="anthropic")) == 12

        # The one error: Claude overloaded (529) for one summary; every other request had a recorded answer.
        calls = list(store.model_calls())
        failed = [(call.name, call.provider) for call in calls if call.error]
        assert failed == [("chat claude-haiku-4-5", "anthropic")]

        # The order questions went through the tool-calling step, the others through the RAG chain.
        tools = {}
        for summary in summaries:
            for span in store.get_trace(summary.trace_id).spans:
                if span.name == "execute_tool get_order_status":
                    tools[summary.labels["user_id"]] = span.attributes["gen_ai.tool.call.arguments"]
        assert tools == {"u-101": '{"order_id":"VB-1042"}', "u-105": '{"order_id":"VB-2077"}'}
        rag = next(s for s in summaries if s.error)
        retrieval = next(x for x in store.get_trace(rag.trace_id).spans if x.name == "retrieval PolicyRetriever")
        assert retrieval.attributes["gen_ai.retrieval.query.text"] == "Do I have to pay for the first service?"
    finally:
        store.close()


def test_output_shows_the_loop(demo_run: tuple[Path, str]) -> None:
    _, output = demo_run
    lines = [line.rstrip() for line in output.splitlines()]
    assert lines[0].startswith("llmtap demo: Velora Bikes' support assistant")
    assert "recorded 12 traces into .llmtap/demo.db" in lines
    headers = [line.split(" ─")[0] for line in lines if "───" in line]
    assert headers[0] == "llmtap traces"
    assert re.fullmatch(r"llmtap show [0-9a-f]{8}", headers[1])
    assert headers[2:] == ["conversation", "llmtap stats --by label.prompt_version --annotation user_feedback", "next"]
    assert sum(1 for line in lines if "invoke_workflow support_turn" in line and "  error  " in line) == 1
    assert any("✗ OverloadedError" in line for line in lines)
    assert any(line.strip().startswith("document policy-service  score 0.5") for line in lines)
    stats = lines.index("model calls by label.prompt_version") + 1
    header = "label.prompt_version calls tokens in tokens out cost $ errors p50 ms p95 ms p99 ms"
    assert lines[stats].split() == header.split()
    assert [line.split()[0] for line in lines[stats + 1 : stats + 3]] == ["v1", "v2"]
    assert "  llmtap traces --store .llmtap/demo.db --label prompt_version=v2" in lines
    # The customers' feedback per prompt version: 3 of 6 thumbs up with v1, 5 of 6 with v2 (Wilson intervals).
    feedback = lines.index("annotation user_feedback by label.prompt_version (share of each value, Wilson 95% CI)")
    assert lines[feedback + 1 : feedback + 4] == [
        "label.prompt_version  n  thumbs_down         thumbs_up",
        "v1                    6  50% (3) [19%, 81%]  50% (3) [19%, 81%]",
        "v2                    6  17% (1) [3%, 56%]   83% (5) [44%, 97%]",
    ]
