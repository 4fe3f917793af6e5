"""`llmtap demo` through its real entry point: the app runs offline into a store, its routes send the errored and
thumbs-down traces to the `review` queue, a scripted reviewer works it, the reviewed traces are exported as chat
JSONL; what it prints is read back from that store, and every next command it suggests is run against it."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmtap.cli import main
from llmtap.cli.demo import YOUR_CORRECTION
from llmtap.demo.reviewer import VERDICTS
from llmtap.demo.traffic import RANGE, SERVICE, SIZING, TURNS, WARRANTY
from llmtap.store import Store, TraceQuery, open_store
from tests.support.finetuning import check_chat_row


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
    assert headers[2:] == [
        "conversation",
        "llmtap stats --by label.prompt_version --annotation user_feedback",
        "routes (in .llmtap/demo.toml)",
        "llmtap queue next review --as maya, then submit",
        "llmtap export --queue review --format chat --model gpt-4o-mini --output .llmtap/demo-review.jsonl",
        "next",
    ]
    assert sum(1 for line in lines if "invoke_workflow support_turn" in line and "  error  " in line) == 1
    assert any("✗ OverloadedError" in line for line in lines)
    assert any(line.strip().startswith("document policy-service  score 0.5") for line in lines)
    stats = lines.index("model calls by label.prompt_version") + 1
    header = "label.prompt_version calls tokens in tokens out cost $ errors p50 ms p95 ms p99 ms"
    assert lines[stats].split() == header.split()
    assert [line.split()[0] for line in lines[stats + 1 : stats + 3]] == ["v1", "v2"]
    assert "  export LLMTAP_CONFIG=.llmtap/demo.toml LLMTAP_STORE=.llmtap/demo.db" in lines
    assert "  llmtap traces --label prompt_version=v2" in lines
    # The customers' feedback per prompt version: 3 of 6 thumbs up with v1, 5 of 6 with v2 (Wilson intervals).
    feedback = lines.index("annotation user_feedback by label.prompt_version (share of each value, Wilson 95% CI)")
    assert lines[feedback + 1 : feedback + 4] == [
        "label.prompt_version  n  thumbs_down         thumbs_up",
        "v1                    6  50% (3) [19%, 81%]  50% (3) [19%, 81%]",
        "v2                    6  17% (1) [3%, 56%]   83% (5) [44%, 97%]",
    ]


def _questions(store: Store) -> dict[str, tuple[str, str]]:
    """trace id -> (customer, question) of every stored trace (the question as the turn's workflow got it)."""
    found = {}
    for summary in store.query_traces(TraceQuery(limit=100)):
        root = next(s for s in store.get_trace(summary.trace_id).spans if s.span_id == summary.root_span_id)
        found[summary.trace_id] = (summary.labels["user_id"], json.loads(root.attributes["input.value"])["question"])
    return found


def test_routes_queue_review_and_export(demo_run: tuple[Path, str]) -> None:
    path, output = demo_run
    store = open_store(path, create=False)
    try:
        questions = _questions(store)
        # The errored trace entered the queue when it ended; the other thumbs-down ones when their feedback
        # arrived (the errored trace was thumbs-down too: a trace enters a queue once). Maya reviewed three.
        queued = [(questions[trace_id], state, rule) for trace_id, state, rule in store.queue_item_traces("review")]
        assert queued == [
            (("u-106", SERVICE), "completed", "errors"),
            (("u-102", SIZING), "completed", "thumbs-down"),
            (("u-102", RANGE), "completed", "thumbs-down"),
            (("u-103", WARRANTY), "pending", "thumbs-down"),
        ]
        feedback = [item.annotation for item in store.annotated_traces("user_feedback")]
        thumbs_down = {questions[item.trace_id] for item in feedback if item.value == "thumbs_down"}
        assert thumbs_down == {("u-106", SERVICE), ("u-102", SIZING), ("u-102", RANGE), ("u-103", WARRANTY)}

        # What Maya submitted, through the review API: annotations on the trace, hers, kind human.
        by_trace = {trace_id: question for trace_id, (_user, question) in questions.items()}
        reviews = sorted(
            (by_trace[annotation.trace_id], annotation.name, annotation.value, annotation.annotator)
            for trace_id in by_trace
            for annotation in store.annotations(trace_id)
            if annotation.annotator_kind == "human"
        )
        assert reviews == sorted(
            [
                (SERVICE, "answer_quality", "correct", "maya"),
                (SIZING, "answer_quality", "incomplete", "maya"),
                (SIZING, "correction", VERDICTS[SIZING].correction, "maya"),
                (RANGE, "answer_quality", "wrong", "maya"),
                (RANGE, "correction", VERDICTS[RANGE].correction, "maya"),
            ]
        )

        # The export: one OpenAI fine-tuning chat row per reviewed trace, made from its gpt-4o-mini answer (not
        # the Claude summary after it), the correction in place of a wrong answer, with provenance.
        rows = [json.loads(line) for line in (path.parent / "demo-review.jsonl").read_text().splitlines()]
        assert len(rows) == 3
        expected_answers = {
            SERVICE: "Good news: your first service within 6 months of delivery is free at any partner workshop "
            "(Service policy).",
            SIZING: VERDICTS[SIZING].correction,
            RANGE: VERDICTS[RANGE].correction,
        }
        for row in rows:
            check_chat_row(row)
            provenance = row["llmtap"]
            question = by_trace[provenance["trace_id"]]
            assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
            assert row["messages"][1] == {"role": "user", "content": question}
            assert row["messages"][2] == {"role": "assistant", "content": expected_answers[question]}
            answer = next(s for s in store.get_trace(provenance["trace_id"]).spans if s.name == "chat gpt-4o-mini")
            assert provenance["span_id"] == answer.span_id
            assert provenance["model"] == "gpt-4o-mini-2024-07-18"
            corrected = question != SERVICE
            assert provenance["annotators"] == (["maya"] if corrected else [])
            used = [(a["name"], a["schema"], a["annotator"], a["annotator_kind"]) for a in provenance["annotations"]]
            assert used == ([("correction", "correction@1", "maya", "human")] if corrected else [])
        assert [by_trace[row["llmtap"]["trace_id"]] for row in rows] == [SERVICE, SIZING, RANGE]
    finally:
        store.close()

    lines = [line.rstrip() for line in output.splitlines()]
    # Each rule: the traces it selects now, and the ones it put in the queue (the errored trace, thumbs-down too,
    # was queued by `errors` when it ended; `thumbs-down` found it there when its feedback arrived).
    routes = [line.split() for line in lines if line.startswith(("errors ", "thumbs-down "))]
    assert [route[:2] + route[-2:] for route in routes] == [
        ["errors", "trace.error", "1", "1"],
        ["thumbs-down", "has(annotations.user_feedback)", "4", "3"],
    ]
    assert any(line.startswith("routed 4 traces to queue review: ") for line in lines)
    assert "maya reviewed 3 items (2 with a corrected answer), skipped 0; 1 left pending for the next reviewer" in lines
    assert (
        "exported 3 chat rows (OpenAI fine-tuning format, provenance under `llmtap`) from the 3 reviewed traces to "
        ".llmtap/demo-review.jsonl" in lines
    )


def _next_commands(output: str) -> tuple[dict[str, str], list[str]]:
    """The environment (the `export` line) and the `llmtap` commands the demo ends with, in order."""
    lines = output.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("next ─"))
    commands = [line.strip() for line in lines[start + 1 :] if not line.strip().startswith("#")]
    if commands[0].startswith("source "):  # `llmtap` is not on this test's PATH: the demo says how to put it there
        assert os.path.samefile(shlex.split(commands[0])[1], Path(sys.executable).with_name("activate"))
        commands = commands[1:]
    environment = dict(pair.split("=", 1) for pair in shlex.split(commands[0])[1:])
    assert commands[0].startswith("export ") and all(command.startswith("llmtap ") for command in commands[1:])
    return environment, commands[1:]


def test_the_next_commands_work_on_the_demo_store(demo_run: tuple[Path, str], tmp_path: Path) -> None:
    """Every command the demo suggests, run in order (as a newcomer would paste them) on a copy of its store."""
    path, output = demo_run
    cwd = tmp_path / "copy"
    shutil.copytree(path.parent.parent, cwd)
    environment, commands = _next_commands(output)
    assert environment == {"LLMTAP_CONFIG": ".llmtap/demo.toml", "LLMTAP_STORE": ".llmtap/demo.db"}
    assert [command.split()[1:3] for command in commands] == [
        ["traces", "--label"], ["traces", "--errors"], ["traces", "--annotation"], ["traces", "--search"],
        ["show", commands[4].split()[2]], ["stats", "--by"], ["traces", "--json"], ["routes", "test"],
        ["routes", "run"], ["queue", "next"], ["queue", "submit"], ["queue", "stats"], ["export", "--queue"],
    ]  # fmt: skip
    results = {}
    old = Path.cwd()
    os.chdir(cwd)
    try:
        for command in commands:
            result = CliRunner().invoke(
                main, shlex.split(command)[1:], env={**environment, "COLUMNS": "140", "LLMTAP_CAPTURE_CONTENT": None}
            )
            assert result.exit_code == 0, f"{command}\n{result.output}"
            results[command.split()[1] + " " + command.split()[2]] = result.output
    finally:
        os.chdir(old)

    assert len(json.loads(results["traces --json"])) == 10  # the first page of the 12
    routes = results["routes test"].splitlines()
    assert "errors: MATCH" in routes and "thumbs-down: MATCH" in routes
    assert results["routes run"].strip().splitlines() == [
        "12 trace(s) routed",
        "  errors: 1 selected",
        "  thumbs-down: 4 selected",
        "  already done queue:review: 5",
    ]
    claimed = results["queue next"]
    assert "item 4 claimed by you until " in claimed and "user Is a cracked frame covered by the warranty?" in claimed
    assert results["queue stats"].splitlines()[:2] == [
        "review: 0 pending, 0 claimed, 4 completed, 0 skipped",
        "reviews: maya 3, you 1",
    ]
    rows = [json.loads(line) for line in results["export --queue"].splitlines() if line.startswith("{")]
    assert [row["expected_output"] for row in rows] == [
        None,
        VERDICTS[SIZING].correction,
        VERDICTS[RANGE].correction,
        YOUR_CORRECTION,
    ]
    assert [row["annotations"]["answer_quality"] for row in rows] == ["correct", "incomplete", "wrong", "incomplete"]
    assert all(row["llmtap"]["model"] == "gpt-4o-mini-2024-07-18" for row in rows)


def test_the_demo_says_how_to_put_llmtap_on_path_only_when_it_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmtap.cli.demo import path_step

    scripts = Path(sys.executable).parent
    monkeypatch.setenv("PATH", str(scripts))
    assert path_step() is None
    monkeypatch.setenv("PATH", "/nonexistent")
    step = path_step()
    assert step is not None and step[0].startswith("source ") and step[0].endswith("activate")
    assert (scripts / "activate").exists()
