"""benchmarks/bench_routing.py runs end to end in its quick mode (a smoke test: no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_quick_routing_benchmark_prints_every_row(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_routing.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.rsplit(None, 1) for line in done.stdout.splitlines()[1:]]
    assert [name.strip() for name, _ in rows] == [
        "20 rules, 12-span trace",
        "20 rules, 3-span trace",
        "11 rules not reading spans, 12-span trace",
        "rules matched on the 12-span trace",
        "back-fill, 200 traces (traces/s)",
    ]
    assert rows[3][1] == "5"
