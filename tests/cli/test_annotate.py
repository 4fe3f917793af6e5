"""`llmtap annotate` through its real entry point: the API's schema check, every target form, written to the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmtap.cli import main
from llmtap.store import open_store
from tests.cli.conftest import TRACE_B, TRACE_C

SCHEMAS = """
[tool.llmtap.annotations.user_feedback]
type = "categorical"
values = { thumbs_up = 1.0, thumbs_down = 0.0 }
version = 3

[tool.llmtap.annotations.quality]
type = "score"
min = 1
max = 5
explanation = "required"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The application's directory: its pyproject.toml declares the annotations."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "pyproject.toml").write_text(SCHEMAS)
    monkeypatch.chdir(tmp_path / "app")
    for name in ("LLMTAP_CONFIG", "LLMTAP_ANNOTATIONS_MODE", "LLMTAP_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "app"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_span_target_json_is_the_stored_annotation(project: Path, store_file: Path) -> None:
    result = invoke(
        "annotate", f"{TRACE_B[:6]}/0000000000000005", "user_feedback", "thumbs_up", "--annotator", "rev-1",
        "--store", str(store_file), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {key: data[key] for key in ("name", "value", "score", "label", "trace_id", "span_id")} == {
        "name": "user_feedback",
        "value": "thumbs_up",
        "score": 1.0,
        "label": "thumbs_up",
        "trace_id": TRACE_B,
        "span_id": "0000000000000005",
    }
    assert (data["annotator"], data["annotator_kind"], str(data["schema_version"])) == ("rev-1", "human", "3")
    assert data["target"] == {"kind": "span", "trace_id": TRACE_B, "span_id": "0000000000000005"}
    store = open_store(store_file, create=False)
    try:
        stored = [a for a in store.annotations(TRACE_B) if a.annotation_id == data["annotation_id"]]
    finally:
        store.close()
    assert [(a.name, a.value, a.span_id, a.annotator) for a in stored] == [
        ("user_feedback", "thumbs_up", "0000000000000005", "rev-1")
    ]


def test_trace_target_score_with_explanation(project: Path, store_file: Path) -> None:
    result = invoke("annotate", TRACE_C[:8], "quality", "4", "--explanation", "right size", "--kind", "llm",
                    "--store", str(store_file))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"annotated {TRACE_C}: quality = 4.0 (id ")
    shown = json.loads(invoke("show", TRACE_C, "--store", str(store_file), "--json").output)
    quality = [a for a in shown["annotations"] if a["name"] == "quality"]
    assert [(a["value"], a["score"], a["explanation"], a["annotator_kind"]) for a in quality] == [
        (4.0, 4.0, "right size", "llm")
    ]


def test_join_key_is_kept_pending(project: Path, store_file: Path) -> None:
    result = invoke("annotate", "message_id=m-9", "user_feedback", "thumbs_down", "--store", str(store_file))
    assert result.exit_code == 0, result.output
    assert result.output == "kept pending (no stored span matches message_id=m-9 yet): user_feedback = 'thumbs_down'\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [TRACE_C, "quality", "7", "--explanation", "x"],
            "Error: annotation 'quality': value=7: expected a number from 1 to 5 (schema version 1)",
        ),
        (
            [TRACE_C, "quality", "4"],
            "Error: annotation 'quality': explanation=None: the schema requires an explanation (schema version 1)",
        ),
        (
            [TRACE_C, "mood", "happy"],
            "Error: annotation 'mood': not declared in [tool.llmtap.annotations]; expected one of: quality, "
            "user_feedback",
        ),
        (["ffff", "user_feedback", "thumbs_up"], "Error: trace id 'ffff': no trace in "),
        ([f"{TRACE_C}/00000000000000ff", "user_feedback", "thumbs_up"], f"trace {TRACE_C} has no span"),
    ],
)
def test_bad_annotations_are_refused_as_the_api_does(
    project: Path, store_file: Path, args: list[str], message: str
) -> None:
    result = invoke("annotate", *args, "--store", str(store_file))
    assert result.exit_code != 0
    assert message in result.output


ROUTES = """
[tool.llmtap.queues.review]
annotations = ["user_feedback"]

[[tool.llmtap.routes]]
name = "thumbs-down"
when = 'annotations.user_feedback == "thumbs_down"'
actions = ["queue:review"]
"""


def test_a_join_key_the_store_resolves_routes_the_trace(project: Path, store_file: Path) -> None:
    # The annotation reaches its trace only in the store (the command's process knows no span with that label):
    # the rules run again on that trace, as for an annotation made with its trace id.
    (project / "pyproject.toml").write_text(SCHEMAS + ROUTES)
    result = invoke("annotate", "user_id=u-2", "user_feedback", "thumbs_down", "--store", str(store_file))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"annotated {TRACE_B}: user_feedback = 'thumbs_down' (id ")
    store = open_store(store_file, create=False)
    try:
        assert store.queue_item_traces("review") == [(TRACE_B, "pending", "thumbs-down")]
    finally:
        store.close()


def test_annotations_check_validates_the_stored_annotations(project: Path, store_file: Path) -> None:
    # What the application really recorded, checked against the schemas in force: `helpfulness` is not declared in
    # this project, and the two newest traces (C, then B) are the sample.
    result = invoke("annotations", "check", "--store", str(store_file), "--sample", "2")
    assert result.exit_code == 1, result.output
    undeclared = (
        "annotation 'helpfulness': not declared in [tool.llmtap.annotations]; expected one of: quality, "
        "user_feedback (or LLMTAP_ANNOTATIONS_MODE=open to accept undeclared annotations)"
    )
    assert result.output.splitlines()[3:] == [
        f"ok   trace {TRACE_C[:8]} annotation ann-3",
        f"FAIL trace {TRACE_C[:8]} annotation ann-6: {undeclared}",
        f"ok   trace {TRACE_B[:8]} annotation ann-2",
        f"FAIL trace {TRACE_B[:8]} annotation ann-5: {undeclared}",
        "4 annotation(s) checked, 2 with problems",
    ]
