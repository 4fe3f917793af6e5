"""`llmtap doctor --store PATH`: the store part of the report is about that file, as `--store` means everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmtap.cli import main
from llmtap.store import open_store


def test_doctor_reports_on_the_store_given(store_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LLMTAP_STORE", raising=False)
    monkeypatch.delenv("LLMTAP_CONFIG", raising=False)
    store = open_store(store_file, create=False)
    try:
        info = store.info()
    finally:
        store.close()
    result = CliRunner().invoke(main, ["doctor", "--store", str(store_file), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["store"] == {
        "path": str(store_file),
        "records": "given with --store",
        "retention": "keeps everything (`llmtap purge` deletes old traces)",
        "status": "ok",
        "size_bytes": info.size_bytes,
        "trace_count": info.trace_count,
        "span_count": info.span_count,
        "annotation_count": info.annotation_count,
        "pending_annotation_count": info.pending_annotation_count,
        "schema_version": info.schema_version,
        "writable": True,
        "problem": None,
    }
    assert info.trace_count > 0
    # As text, one line per field (not the JSON object on one line).
    text = CliRunner().invoke(main, ["doctor", "--store", str(store_file)], env={"COLUMNS": "300"})
    assert text.exit_code == 0, text.output
    section = text.output.split("\nstore\n", 1)[1].split("\nproblems", 1)[0].splitlines()
    assert section == [
        f"  path                      {store_file}",
        "  records                   given with --store",
        "  retention                 keeps everything (`llmtap purge` deletes old traces)",
        "  status                    ok",
        f"  size_bytes                {info.size_bytes}",
        f"  trace_count               {info.trace_count}",
        f"  span_count                {info.span_count}",
        f"  annotation_count          {info.annotation_count}",
        f"  pending_annotation_count  {info.pending_annotation_count}",
        f"  schema_version            {info.schema_version}",
        "  writable                  true",
    ]
