"""`llmtap annotations check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmtap.cli import main

CONFIG = """
[annotations.human_feedback]
type = "categorical"
values = { good = 1.0, bad = 0.0 }
version = 2
description = "thumbs up / down"
annotators = ["end_user", "human"]

[annotations.quality]
type = "score"
min = 1
max = 5
integer = true
explanation = "required"
targets = ["span"]

[annotations.correction]
type = "text"
safe = true
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("LLMTAP_ANNOTATIONS_MODE", "LLMTAP_CONFIG", "LLMTAP_TAGS"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "llmtap.toml"
    path.write_text(CONFIG)
    return path


SCHEMAS = [
    "  correction v1: text; explanation optional; targets span, trace, session; annotators human, end_user, llm, "
    "code; safe",
    "  human_feedback v2: categorical[good=1, bad=0]; explanation optional; targets span, trace, session; "
    "annotators end_user, human - thumbs up / down",
    "  quality v1: score (a whole number from 1 to 5); explanation required; targets span; annotators human, "
    "end_user, llm, code",
]


def test_prints_the_schemas(config: Path) -> None:
    result = CliRunner().invoke(main, ["annotations", "check", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"annotation schemas from {config} (mode: strict)", *SCHEMAS]


def test_validates_a_file(config: Path, tmp_path: Path) -> None:
    items = [
        {"name": "human_feedback", "value": "good", "annotator_kind": "end_user"},
        {"name": "human_feedback", "value": "great"},
        {"name": "quality", "value": 4, "explanation": "clear", "target": {"kind": "trace", "trace_id": "ab" * 16}},
        {"name": "quality", "value": 4, "explanation": "clear", "target": {"session_id": "s-1"}},
        {"name": "quality", "value": 4},
        {"name": "nps", "value": 9},
        {"name": "human_feedback", "value": "bad", "annotator_kind": "llm"},
        {"value": 1},
    ]
    sample = tmp_path / "annotations.jsonl"
    sample.write_text("\n".join(json.dumps(item) for item in items) + "\n\n")
    result = CliRunner().invoke(main, ["annotations", "check", "--config", str(config), "--file", str(sample)])
    assert result.exit_code == 1
    assert result.output.splitlines()[4:] == [
        f"ok   {sample}:1",
        f"FAIL {sample}:2: annotation 'human_feedback': value='great': expected one of good, bad (schema version 2)",
        f"FAIL {sample}:3: annotation 'quality': target kind 'trace': the schema allows span",
        f"FAIL {sample}:4: annotation 'quality': target kind 'session': the schema allows span",
        f"FAIL {sample}:5: annotation 'quality': explanation=None: the schema requires an explanation "
        "(schema version 1)",
        f"FAIL {sample}:6: annotation 'nps': not declared in [tool.llmtap.annotations]; expected one of: correction, "
        "human_feedback, quality (or LLMTAP_ANNOTATIONS_MODE=open to accept undeclared annotations)",
        f"FAIL {sample}:7: annotation 'human_feedback': annotator_kind='llm': the schema allows end_user, human",
        f"FAIL {sample}:8: {{'value': 1}}: expected an object with name and value (and explanation, annotator_kind, "
        "target)",
        "8 annotation(s) checked, 7 with problems",
    ]


def test_open_mode_and_no_schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMTAP_ANNOTATIONS_MODE", raising=False)
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    result = CliRunner().invoke(main, ["annotations", "check", "--config", str(empty)])
    assert result.output.splitlines() == [
        f"annotation schemas from {empty} (mode: strict)",
        "  no annotations declared: every annotation is refused",
    ]
    monkeypatch.setenv("LLMTAP_ANNOTATIONS_MODE", "open")
    sample = tmp_path / "a.jsonl"
    sample.write_text('{"name": "nps", "value": 9}\n')
    result = CliRunner().invoke(main, ["annotations", "check", "--config", str(empty), "--file", str(sample)])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"annotation schemas from {empty} (mode: open)",
        "  no annotations declared",
        f"ok   {sample}:1",
        "1 annotation(s) checked, 0 with problems",
    ]


def test_a_malformed_schema_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMTAP_ANNOTATIONS_MODE", raising=False)
    bad = tmp_path / "bad.toml"
    bad.write_text('[annotations.q]\ntype = "score"\nmin = "low"\n')
    result = CliRunner().invoke(main, ["annotations", "check", "--config", str(bad)])
    assert result.exit_code == 1
    assert result.output == f"Error: {bad}: annotations.q.min='low': expected a finite number\n"
    monkeypatch.setenv("LLMTAP_ANNOTATIONS_MODE", "closed")
    result = CliRunner().invoke(main, ["annotations", "check", "--config", str(bad)])
    assert (
        result.output
        == "Error: LLMTAP_ANNOTATIONS_MODE='closed': expected strict (only declared annotations) or open\n"
    )
