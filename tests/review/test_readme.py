"""The README's review-queue configuration and Python example, run verbatim over traces made with the openai SDK."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from llmtap.review import ReviewQueues
from llmtap.store import open_store

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks() -> tuple[str, str]:
    section = README.read_text(encoding="utf-8").split("\n## Review queues\n", 1)[1].split("\n## Exporting", 1)[0]
    toml = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    python = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert toml is not None and python is not None
    return toml.group(1), python.group(1)


def test_the_readme_review_example(traced, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = traced(["Lyon.", "Marseille."])
    toml, python = _blocks()
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(toml)
    monkeypatch.chdir(folder)
    queues = ReviewQueues(open_store(run.store_path))
    for trace_id in run.trace_ids:
        queues.add("review", trace_id)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(python, str(README), "exec"), {"__name__": "readme"})
    # two reviewers per item: ana's reviews leave both items waiting for a second reviewer
    assert printed.getvalue() == "{'pending': 2, 'claimed': 0, 'completed': 0, 'skipped': 0}\n"
    stored = open_store(run.store_path).annotations(run.trace_ids[1])
    assert sorted((a.name, a.value, a.annotator, a.explanation) for a in stored) == [
        ("correction", "Paris.", "ana", "wrong"),
        ("human_feedback", "bad", "ana", "wrong"),
    ]
