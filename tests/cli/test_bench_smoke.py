"""benchmarks/bench_cli.py runs end to end (a smoke test on the CLI tests' small store: no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.environment import child_env

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_cli.py"


def test_the_command_benchmark_runs_every_command(store_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = child_env()
    done = subprocess.run(
        [sys.executable, str(BENCH), "--store", str(store_file), "--rounds", "1", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert list(result["commands"]) == [
        "python -c pass",
        'python -c "import click, sqlite3, rich.console"',
        "llmtap --version",
        "llmtap traces",
        "llmtap traces --json",
        "llmtap traces --label prompt_version=v2",
        "llmtap traces --label user_id=u-7",
        "llmtap traces --search refund",
        "llmtap traces --search zanzibar",
        "llmtap show PREFIX",
        "llmtap show PREFIX --json",
    ]
    assert all(row["output_bytes"] > 0 for name, row in result["commands"].items() if name.startswith("llmtap"))
    assert "wall ms median / min, CPU ms median" in done.stdout
