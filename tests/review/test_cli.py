from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmtap.cli import main

PYPROJECT = """
[tool.llmtap.annotations.human_feedback]
type = "categorical"
values = { good = 1.0, bad = 0.0 }

[tool.llmtap.annotations.correction]
type = "text"

[tool.llmtap.queues.review]
annotations = ["human_feedback", "correction"]
reviewers = 2
lease = "15m"
instructions = "Is the answer right? If not, write the right one as a correction."
"""


@pytest.fixture
def project(traced, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    run = traced(["Paris.", "Lyon."])
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(PYPROJECT)
    monkeypatch.chdir(folder)
    monkeypatch.delenv("LLMTAP_CONFIG", raising=False)
    runner = CliRunner()

    def llmtap(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, [*args, "--store", str(run.store_path)] if args[0] != "export" else [*args])
        assert result.exit_code == code, result.output
        return result.output

    return run, llmtap


def test_a_review_from_the_command_line(project, tmp_path: Path) -> None:
    run, llmtap = project
    first, second = run.trace_ids
    assert llmtap("queue", "add", "review", first) == f"added {first} to review\n"
    assert llmtap("queue", "add", "review", first) == f"{first} is in review already\n"
    llmtap("queue", "add", "review", second)
    listed = json.loads(llmtap("queue", "list", "--json"))
    assert listed == [
        {
            "name": "review",
            "annotations": ["human_feedback", "correction"],
            "reviewers": 2,
            "lease_seconds": 900.0,
            "instructions": "Is the answer right? If not, write the right one as a correction.",
            "states": {"pending": 2, "claimed": 0, "completed": 0, "skipped": 0},
        }
    ]
    claim = json.loads(llmtap("queue", "next", "review", "--as", "ana", "--json"))
    assert (claim["item"]["trace_id"], claim["item"]["state"]) == (first, "claimed")
    assert claim["asks_for"] == {"human_feedback": "one of good, bad", "correction": "a non-empty text"}
    assert claim["trace"]["trace_id"] == first
    item = claim["item"]["item"]

    text = llmtap("queue", "next", "review", "--as", "bo")
    assert f"item {item} claimed by bo until" in text
    assert "Is the answer right?" in text and "human_feedback: one of good, bad" in text
    assert "Paris." in text  # the conversation

    refused = llmtap("queue", "submit", str(item), "--as", "ana", "human_feedback=meh", code=1)
    assert "annotation 'human_feedback': value='meh': expected one of good, bad" in refused
    assert llmtap("queue", "submit", str(item), "--as", "ana", "human_feedback=good") == (
        f"item {item}: stored human_feedback='good'; the item is claimed\n"
    )
    done = json.loads(
        llmtap(
            "queue",
            "submit",
            str(item),
            "--as",
            "bo",
            "human_feedback=bad",
            "correction=Paris!",
            "--explanation",
            "too short",
            "--json",
        )
    )
    assert done["state"] == "completed"
    assert [(a["name"], a["value"], a["annotator"], a["explanation"]) for a in done["annotations"]] == [
        ("human_feedback", "bad", "bo", "too short"),
        ("correction", "Paris!", "bo", "too short"),
    ]
    skipped = llmtap("queue", "skip", str(item + 1), "--as", "ana")
    assert skipped == f"item {item + 1}: skipped by ana; the item is pending\n"
    stats = json.loads(llmtap("queue", "stats", "review", "--json"))
    assert stats["states"] == {"pending": 1, "claimed": 0, "completed": 1, "skipped": 0}
    assert stats["agreement"][0] == {
        "name": "human_feedback",
        "level": "nominal",
        "items": 1,
        "paired_items": 1,
        "ratings": 2,
        "reviewers": 2,
        "percent_agreement": 0.0,
        "alpha": 0.0,  # one item, two different values: Do = De = 1
    }
    assert llmtap("queue", "stats", "review") == (
        "review: 1 pending, 0 claimed, 1 completed, 0 skipped\n"
        "reviews: ana 1, bo 1\n"
        "  human_feedback (nominal): 1 item(s) rated, 1 by 2+ reviewers, 2 rating(s); agreement 0.0%; "
        "Krippendorff's alpha 0.000\n"
        "  correction: 1 rating(s); no agreement figure for text\n"
    )
    shown = json.loads(llmtap("queue", "show", "review", "--json"))
    assert [(entry["trace_id"], entry["state"]) for entry in shown["items"]] == [
        (first, "completed"),
        (second, "pending"),
    ]

    output = tmp_path / "train.jsonl"
    summary = json.loads(
        llmtap(
            "export",
            "--queue",
            "review",
            "--format",
            "chat",
            "--output",
            str(output),
            "--json",
            "--store",
            str(run.store_path),
            "--provenance",
            "file",
        )
    )
    assert summary == {
        "format": "chat",
        "source": "queue review",
        "output": str(output),
        "traces": 1,
        "rows": 1,
        "skipped": 0,
    }
    (row,) = [json.loads(line) for line in output.read_text().splitlines()]
    assert row == {
        "messages": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris!"},
        ]
    }
    (side,) = [json.loads(line) for line in Path(str(output) + ".provenance.jsonl").read_text().splitlines()]
    assert side["trace_id"] == first and side["annotators"] == ["bo"]

    # `--output -` is stdout (the summary on stderr), not a file named "-".
    result = CliRunner().invoke(
        main, ["export", "--queue", "review", "--output", "-", "--provenance", "none", "--store", str(run.store_path)]
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()] == [row]
    assert result.stderr == "exported 1 chat row(s) from 1 trace(s) of the queue review to <stdout>\n"
    assert not Path("-").exists()
    assert "expected one source" in llmtap("export", "--store", str(run.store_path), code=2)
    assert llmtap("queue", "remove", "review", second[:10]) == f"removed {second} from review\n"  # a unique prefix
    assert "not in queue 'review'" in llmtap("queue", "remove", "review", second, code=1)
    assert "queue 'nope': not declared" in llmtap("queue", "show", "nope", code=1)


def test_skip_without_as_passes_for_the_one_reviewer_holding_the_claim(project) -> None:
    run, llmtap = project
    first, _second = run.trace_ids
    llmtap("queue", "add", "review", first)
    item = json.loads(llmtap("queue", "show", "review", "--json"))["items"][0]["item"]
    assert "is claimed by nobody; expected --as REVIEWER" in llmtap("queue", "skip", str(item), code=2)
    llmtap("queue", "next", "review", "--as", "ana")
    assert llmtap("queue", "skip", str(item)) == f"item {item}: skipped by ana; the item is pending\n"
    llmtap("queue", "next", "review", "--as", "bo")
    llmtap("queue", "next", "review", "--as", "cy")
    assert "is claimed by bo, cy; expected --as REVIEWER" in llmtap("queue", "skip", str(item), code=2)
