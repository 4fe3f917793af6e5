"""benchmarks/bench_store.py runs end to end in its quick mode (a smoke test: no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from llmtap.store import schema
from tests.support.environment import child_env

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_store.py"


def test_quick_store_benchmark_prints_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = child_env()
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--cache", str(tmp_path / "cache"), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert set(result["ingest"]) == {
        "spans_per_s_best",
        "spans_per_s_median",
        "spans_per_cpu_s",
        "store_us_per_span",
        "convert_thread_us_per_span",
        "writer_threads_us_per_span",
        "one_thread_spans_per_s_best",
        "one_thread_spans_per_cpu_s",
        "sdk_us_per_span",
        "store_over_sdk",
    }
    rows = {name: figures["rows"] for name, figures in result["queries"].items()}
    assert rows == {
        "first page, no filter": 50,
        "first page, label prompt_version=v2 (50 %)": 50,
        "first page, label user_id=u-7 (0.1 %)": rows["first page, label user_id=u-7 (0.1 %)"],
        "first page, search 'refund' (common)": 50,
        "first page, search 'zanzibar' (rare)": 1,
        "first page, errors only (none)": 0,
        "get_trace by 8-digit prefix": 5,
    }
    assert set(result["size_per_1000_model_spans"]) == {"with content", "content off"}
    assert (tmp_path / "cache" / f"bench-store-1000-v{schema.SCHEMA_VERSION}.db").exists()
    assert "queries on" in done.stdout and "store size per 1,000 model spans" in done.stdout
