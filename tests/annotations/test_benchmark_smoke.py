"""`benchmarks/bench_annotations.py --quick` runs end to end (a smoke test: no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_annotations.py"


def test_quick_run_prints_every_row() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, check=True, timeout=120
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "50 calls x 2 batches x 1 repeats; min over repeats of the median batch"
    assert [line.split("  ")[0] for line in lines[2:6]] == [
        "log record",
        "annotate(SpanRef)",
        "annotate(trace id)",
        "token round trip",
    ]
    # 1 first annotation + per variant (warm-up + 2 batches) x 50 calls
    assert lines[6] == "log records exported: 601"
