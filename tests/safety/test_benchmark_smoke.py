"""benchmarks/bench_redaction.py runs end to end in its quick mode (a smoke test: no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_redaction.py"


def test_redaction_benchmark_prints_every_row() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [line.split()[-4] for line in result.stdout.splitlines()[2:]]  # the policy column
    assert rows == ["default", "off", "sets"] * 3
