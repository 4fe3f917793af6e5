"""`llmtap routes check | test | run` through the real entry point, on traces an instrumented app stored."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import llmtap
from llmtap.cli import main
from llmtap.store import StoredAnnotation
from tests.routing.conftest import Start

RULES = [
    {
        "name": "bad-checkout",
        "when": 'labels.feature == "checkout" && annotations.human_feedback == "bad"',
        "actions": ["queue:review"],
    },
    {
        "name": "tool-errors",
        "when": 'spans.exists(s, s.operation == "execute_tool" && s.status == "ERROR")',
        "actions": ["dataset:tool-failures"],
    },
    {
        "name": "big",
        "when": "trace.input_tokens >= 12 && root.name == 'invoke_workflow answer'",
        "actions": ["tag:size=big"],
    },
]


def _config(tmp_path: Path) -> Path:
    lines = []
    for rule in RULES:
        lines.append("[[routes]]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in rule.items())
    lines.append('[labels.feature]\ntype = "enum"\nvalues = ["checkout", "search"]')
    lines.append('[annotations.human_feedback]\ntype = "categorical"\nvalues = { good = 1.0, bad = 0.0 }')
    path = tmp_path / "llmtap.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@llmtap.tool
def lookup_order(order_id: str) -> str:
    raise KeyError(order_id)


def _stored(routed: Start) -> tuple[Any, str, str]:
    """Two traces in the store, routed by no rule yet (the app runs with a rule that never matches), and an
    end user's thumbs-down on the first, stored as the store's annotation exporter stores it."""
    app = routed([{"name": "none", "when": "false", "actions": ["queue:unused"]}])
    checkout = app.answer("checkout")

    @llmtap.workflow(name="answer")
    def with_tool() -> str:
        trace_id = llmtap.current_span_ref().trace_id
        try:
            lookup_order("o-1")
        except KeyError:
            pass
        return trace_id

    tool_trace = with_tool()
    store = app.store()
    try:
        store.write_annotations(
            [
                StoredAnnotation(
                    annotation_id="a-1",
                    name="human_feedback",
                    value="bad",
                    trace_id=checkout.trace_id,
                    annotator_kind="end_user",
                    time_ns=time.time_ns(),
                )
            ]
        )
    finally:
        store.close()
    return app, checkout.trace_id, tool_trace


def test_check_prints_every_rule(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["routes", "check", "--config", str(_config(tmp_path))])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"ok   bad-checkout: when {RULES[0]['when']}",
        "     sample 1 -> queue:review",
        f"ok   tool-errors: when {RULES[1]['when']}",
        "     sample 1 -> dataset:tool-failures",
        f"ok   big: when {RULES[2]['when']}",
        "     sample 1 -> tag:size=big",
        "3 rule(s) checked",
    ]


def test_check_fails_with_the_rule_and_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[routes]]\nname = "r"\nwhen = "trace.error &&"\nactions = ["queue:q"]\n')
    result = CliRunner().invoke(main, ["routes", "check", "--config", str(path)])
    assert result.exit_code == 1
    assert f"Error: {path}: routes[0] 'r'.when: Syntax error" in result.output


def test_check_names_an_exporter_package_that_is_missing(tmp_path: Path) -> None:
    assert importlib.util.find_spec("opentelemetry.exporter.otlp.proto.grpc") is None  # not installed here
    rule = '[[routes]]\nname = "r"\nwhen = "trace.error"\nactions = ["exporter:vendor"]\n'
    exporter = '[exporters.vendor]\ntype = "otlp"\nendpoint = "http://127.0.0.1:4317"\n'
    path = tmp_path / "grpc.toml"
    path.write_text(rule + exporter + 'protocol = "grpc"\n')
    result = CliRunner().invoke(main, ["routes", "check", "--config", str(path)])
    assert (result.exit_code, result.output) == (
        1,
        "Error: exporters.vendor: protocol 'grpc' needs the OTLP exporter; expected "
        "`pip install opentelemetry-exporter-otlp-proto-grpc`\n",
    )
    path.write_text(rule + exporter)  # OTLP over HTTP: installed (llmtap[otlp])
    result = CliRunner().invoke(main, ["routes", "check", "--config", str(path)])
    assert (result.exit_code, result.output.splitlines()[-1]) == (0, "1 rule(s) checked")


def test_test_explains_each_clause_of_each_rule(routed: Start, tmp_path: Path) -> None:
    app, checkout, _ = _stored(routed)
    args = ["routes", "test", checkout[:8], "--config", str(_config(tmp_path)), "--store", str(app.store_path)]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["trace_id"] == checkout
    by_name = {rule["name"]: rule for rule in report["rules"]}
    assert [(c["clause"], c["value"], c["error"]) for c in by_name["bad-checkout"]["clauses"]] == [
        ('labels.feature == "checkout"', True, None),
        ('annotations.human_feedback == "bad"', True, None),
    ]
    assert [(c["clause"], c["value"]) for c in by_name["big"]["clauses"]] == [
        ("trace.input_tokens >= 12", True),
        ("root.name == 'invoke_workflow answer'", True),
    ]
    assert by_name["tool-errors"]["clauses"] == [{"clause": RULES[1]["when"], "value": False, "error": None}]
    assert [(rule["name"], rule["selected"], rule["actions_selected"]) for rule in report["rules"]] == [
        ("bad-checkout", True, ["queue:review"]),
        ("tool-errors", False, []),
        ("big", True, ["tag:size=big"]),
    ]
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0, text.output
    assert text.output.splitlines()[:4] == [
        f"trace {checkout}",
        "bad-checkout: MATCH",
        '    labels.feature == "checkout"  ->  true',
        '    annotations.human_feedback == "bad"  ->  true',
    ]


def test_run_backfills_once_and_is_idempotent(routed: Start, tmp_path: Path) -> None:
    app, checkout, tool_trace = _stored(routed)
    base = ["routes", "run", "--since", "1d", "--config", str(_config(tmp_path)), "--store", str(app.store_path)]
    dry = CliRunner().invoke(main, [*base, "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output) == {
        "traces": 2,
        "dry_run": True,
        "matched": {"bad-checkout": 1, "tool-errors": 1, "big": 1},
        "done": {"queue:review": 1, "dataset:tool-failures": 1, "tag:size=big": 1},
        "already_done": {},
    }
    store = app.store()
    assert store.queue_item_traces("review") == []
    store.close()

    first = CliRunner().invoke(main, [*base, "--json"])
    assert json.loads(first.output)["done"] == {"queue:review": 1, "dataset:tool-failures": 1, "tag:size=big": 1}
    again = CliRunner().invoke(main, [*base, "--json"])
    assert json.loads(again.output)["done"] == {}
    assert json.loads(again.output)["already_done"] == {
        "queue:review": 1,
        "dataset:tool-failures": 1,
        "tag:size=big": 1,
    }
    dry_again = CliRunner().invoke(main, [*base, "--dry-run", "--json"])  # a dry run tells what is done already
    assert json.loads(dry_again.output) == {**json.loads(again.output), "dry_run": True}
    store = app.store()
    try:
        assert store.queue_item_traces("review") == [(checkout, "pending", "bad-checkout")]
        assert [trace_id for trace_id, _, _ in store.dataset_items("tool-failures")] == [tool_trace]
        assert store.get_trace(checkout).summary.labels["size"] == "big"
    finally:
        store.close()


def test_backfill_api_reports_progress_and_what_it_did(routed: Start, tmp_path: Path) -> None:
    from llmtap.config import load_settings
    from llmtap.routing import backfill, load
    from llmtap.store import TraceQuery

    app, checkout, _ = _stored(routed)
    store = app.store()
    try:
        runner = load(load_settings(config=_config(tmp_path)), store)
        seen: list[tuple[int, int]] = []
        result = backfill(runner, store, TraceQuery(), progress=lambda done, total: seen.append((done, total)))
        assert seen == [(0, 2), (2, 2)]
        assert (result.traces, result.dry_run) == (2, False)
        assert result.matched == {"bad-checkout": 1, "tool-errors": 1, "big": 1}
        assert result.done == {"queue:review": 1, "dataset:tool-failures": 1, "tag:size=big": 1}
        assert store.queue_item_traces("review") == [(checkout, "pending", "bad-checkout")]
        assert backfill(runner, store, TraceQuery()).already_done == result.done
    finally:
        store.close()
