"""`llmtap show` through its real entry point: the JSON contract exactly, the rendered tree and conversation."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from llmtap.cli import main
from tests.cli.conftest import TRACE_A, TRACE_B, TRACE_C, cost
from tests.cli.test_traces import SUMMARY_C


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "120"})


def annotation(number: int, name: str, value, score, label) -> dict:
    return {
        "annotation_id": f"ann-{number}",
        "name": name,
        "value": value,
        "trace_id": TRACE_C,
        "span_id": None,
        "score": score,
        "label": label,
        "explanation": None,
        "annotator": None,
        "annotator_kind": "end_user",
        "schema_version": None,
        "target": {"trace_id": TRACE_C},
        "metadata": {},
        "attributes": {},
        "time_ns": 1_764_234_005_000_000_000 + number,
        "time": "2025-11-27T09:00:05.000000Z",
        "id": f"ann-{number}",  # the `llmtap.Annotation` names of annotation_id and time
        "created_at": "2025-11-27T09:00:05.000000Z",
    }


def test_json_is_the_documented_shape(store_file: Path) -> None:
    result = invoke("show", TRACE_C[:6], "--store", str(store_file), "--json")  # a unique prefix is enough
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        **SUMMARY_C,
        "spans": [
            {
                "span_id": "0000000000000008",
                "parent_span_id": None,
                "name": "chat gpt-4o-mini",
                "kind": "CLIENT",
                "start_time": "2025-11-27T09:00:02.000000Z",
                "end_time": "2025-11-27T09:00:02.300000Z",
                "duration_ms": 300.0,
                "status": {"code": "UNSET", "description": None},
                "attributes": {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "llmtap.tag.prompt_version": "v2",
                    "llmtap.tag.user_id": "u-3",
                    "gen_ai.usage.input_tokens": 50,
                    "gen_ai.usage.output_tokens": 10,
                    "llmtap.usage.cost": cost(50, 10),
                    "llmtap.usage.cost_source": "genai-prices@0.2.3",
                    "gen_ai.input.messages": json.dumps(
                        [{"role": "user", "parts": [{"type": "text", "content": "Which frame size fits 172 cm?"}]}]
                    ),
                },
                "events": [],
                "links": [],
                "resource": {"attributes": {"service.name": "shop"}, "schema_url": ""},
                "scope": {"name": "tests", "version": "", "schema_url": "", "attributes": {}},
            }
        ],
        "annotations": [
            annotation(3, "user_feedback", "thumbs_up", None, "thumbs_up"),
            annotation(6, "helpfulness", 5, 5.0, None),
        ],
    }


def test_error_span_and_events_in_json(store_file: Path) -> None:
    detail = json.loads(invoke("show", TRACE_B, "--store", str(store_file), "--json").output)
    failed = detail["spans"][-1]
    assert (failed["name"], failed["parent_span_id"]) == ("chat claude-haiku-4-5", detail["spans"][0]["span_id"])
    assert failed["status"] == {"code": "ERROR", "description": "OverloadedError"}
    assert failed["events"] == [
        {
            "name": "exception",
            "time": "2025-11-27T09:00:01.504000Z",
            "attributes": {"exception.type": "OverloadedError"},
        }
    ]


def test_rendered_tree_annotations_and_conversation(store_file: Path) -> None:
    result = invoke("show", TRACE_B[:8], "--store", str(store_file))
    assert result.exit_code == 0, result.output
    lines = [line.rstrip() for line in result.output.splitlines()]
    assert lines[:5] == [
        f"trace {TRACE_B}  2025-11-27 09:00:01 UTC  900 ms  tokens 60/12  error",
        "└── invoke_workflow support_turn  900 ms  prompt_version=v2 user_id=u-2",
        "    ├── chat gpt-4o-mini  100 ms  tokens 60/12",
        "    ├── execute_tool get_order_status  1.0 ms",
        "    └── chat claude-haiku-4-5  400 ms  ✗ OverloadedError",
    ]
    assert lines[6:10] == [
        "annotations",
        "name           value      by        on         explanation",
        "user_feedback  thumbs_up  end_user  the trace  quick answer",
        "helpfulness    4          end_user  the trace",
    ]
    assert lines[11].startswith("conversation ───")
    assert lines[12:] == [
        "chat gpt-4o-mini",
        "      user Where is my order VB-1042?",
        ' assistant → tool call get_order_status({"order_id": "VB-1042"})  [call_1]  (tool_call)',
        "execute_tool get_order_status",
        ' arguments {"order_id": "VB-1042"}',
        '    result {"status": "shipped"}',
        "chat claude-haiku-4-5",
        "     error OverloadedError",
    ]


def test_retrieved_documents_with_scores(store_file: Path) -> None:
    lines = [line.rstrip() for line in invoke("show", TRACE_A, "--store", str(store_file)).output.splitlines()]
    start = lines.index("retrieval PolicyRetriever")
    assert (
        lines[start : start + 8]
        == [
            "retrieval PolicyRetriever",
            "     query Can I return my bike?",
            "  document policy-returns  score 0.5",
            "           Returns within 30 days.",
            "chat gpt-4o-mini",
            "      user Can I return my bike?",
            " assistant Yes, within 30 days.  (stop)",
        ][:8]
    )


def test_unknown_and_ambiguous_ids(store_file: Path) -> None:
    result = invoke("show", "dddd", "--store", str(store_file))
    assert result.exit_code == 1
    assert f"Error: trace id 'dddd': no trace in {store_file} has this id" in result.output
    result = invoke("show", "not-hex", "--store", str(store_file))
    assert result.exit_code == 1
    assert "Error: trace id 'not-hex': expected a trace id (32 hex digits) or a prefix of one" in result.output
