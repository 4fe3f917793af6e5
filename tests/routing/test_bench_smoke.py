"""benchmarks/bench_routing.py and bench_export.py run end to end in their quick mode (smoke tests: no timing is
asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _quick(folder: Path, script: str) -> list[str]:
    """The output lines of `script --quick` (run in `folder`)."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick"], capture_output=True, text=True, timeout=300, cwd=folder
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_quick_routing_benchmark_prints_every_row(tmp_path: Path) -> None:
    lines = _quick(tmp_path, "bench_routing.py")
    assert lines[0].split() == ["per", "trace,", "CPU", "µs", "stream", "fresh", "build", "to", "CEL", "rules"]
    names = [line[:50].strip() for line in lines[1:]]
    assert names == [
        f"20 rules, {kind}, {size}-span trace"
        for kind in ("none reading spans", "4 reading spans/root", "9 reading spans/root")
        for size in (3, 12)
    ] + [
        "rules matched on the 12-span trace (9 read spans)",
        "back-fill of 200 traces, traces/s",
        "first run",
        "second run (all already done)",
    ]
    assert [len(line[50:].split()) for line in lines[1:7]] == [5] * 6  # stream, fresh, build, to CEL, rules
    assert lines[7][50:].split() == ["5"]
    assert lines[8][50:].split() == ["wall", "CPU"]
    assert [len(line[50:].split()) for line in lines[9:]] == [2, 2]


def test_quick_export_benchmark_prints_every_row(tmp_path: Path) -> None:
    lines = _quick(tmp_path, "bench_export.py")
    assert lines[0].startswith("store of 200 reviewed traces made in ")
    assert lines[1].split() == ["export", "(rows/s)", "rows", "wall", "CPU"]
    rows = [(line[:44].strip(), line[44:].split()[0]) for line in lines[2:]]
    assert rows == [
        ("chat from the queue", "200"),
        ("eval from the queue", "200"),
        ("preference from the queue", "100"),
        ("chat from the dataset", "200"),
        ("chat from a filter (human_feedback=bad)", "50"),
    ]
