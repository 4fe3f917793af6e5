"""The provider overhead benchmarks run end to end in their quick mode (a smoke test: no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import genai_prices
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@dataclass(frozen=True)
class Benchmark:
    script: str
    sdk: str
    rows: list[str]
    chunks: list[int]  # streamed chunks per row
    lines: tuple[str, ...]  # prefixes of lines the report must print
    env_prefixes: tuple[str, ...]  # environment settings that would change what is measured
    floor: dict[str, Any]  # attributes of the span the floor copies (content attributes aside)
    every_floor_attribute: bool  # `floor` is all of them, not only some


OPENAI = Benchmark(
    "bench_openai.py",
    "openai",
    ["chat", "chat stream 50 chunks", "chat stream 250 chunks", "chat, two tool calls", "async chat"],
    [0, 50, 250, 0, 0],
    (
        "floor: one SDK span",
        "overhead/floor (chat, non-streamed):",
        "floor in situ",
        "marginal µs per streamed chunk",
        "RSS growth over 300 chat calls",
    ),
    ("LLMTAP_", "OTEL_"),
    {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.input_tokens": 23,
        "gen_ai.usage.output_tokens": 12,
    },
    every_floor_attribute=False,
)
ANTHROPIC = Benchmark(
    "bench_anthropic.py",
    "anthropic",
    ["message", "message stream 50 deltas", "helper stream 50 deltas", "message stream 250 deltas"],
    [0, 50, 50, 250],
    (
        "floor: one SDK span, message span's",
        "overhead/floor (message, non-streamed):",
        "floor in situ",
        "marginal µs per streamed delta",
        "RSS growth over 300 message calls",
    ),
    ("LLMTAP_", "OTEL_", "ANTHROPIC_"),
    {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-5-5",
        "server.address": "api.anthropic.com",
        "server.port": 443,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.response.id": "msg_01BenchMessage000000000001",
        "gen_ai.response.model": "claude-sonnet-5-5",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 23,
        "gen_ai.usage.output_tokens": 12,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "gen_ai.usage.cache_creation.input_tokens": 0,
        "anthropic.request.id": "req_011CSHoEeqs5C35K2UUqR7Fy",
        "anthropic.response.service_tier": "standard",
        "anthropic.message.stop_reason": "end_turn",
        "llmtap.usage.cost": float(
            genai_prices.calc_price(
                genai_prices.Usage(input_tokens=23, output_tokens=12), "claude-sonnet-5-5", provider_id="anthropic"
            ).total_price
        ),
        "llmtap.usage.cost_source": f"genai-prices@{genai_prices.__version__}",
    },
    every_floor_attribute=True,
)


def _quick(
    script: str, tmp_path: Path, *options: str, env_prefixes: tuple[str, ...] = ("LLMTAP_", "OTEL_")
) -> tuple[list[str], dict[str, Any]]:
    """Run a benchmark's quick mode with --json; its printed lines and its JSON. Environment settings that
    would change what is measured (`env_prefixes`) are cleared; the rest is inherited."""
    out = tmp_path / "bench.json"
    env = {key: value for key, value in os.environ.items() if not key.startswith(env_prefixes)}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", "--json", str(out), *options],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    # The benchmark's streams carry no usage (as OpenAI's do unless asked): they get no cost, and say so once.
    stderr = [line for line in done.stderr.splitlines() if not line.startswith("llmtap: no cost recorded for ")]
    assert stderr == []
    return done.stdout.splitlines(), json.loads(out.read_text())


@pytest.mark.parametrize("benchmark", [OPENAI, ANTHROPIC], ids=lambda benchmark: benchmark.sdk)
def test_quick_benchmark_prints_every_row(benchmark: Benchmark, tmp_path: Path) -> None:
    pytest.importorskip(benchmark.sdk)
    pytest.importorskip("httpx2")
    lines, result = _quick(benchmark.script, tmp_path, env_prefixes=benchmark.env_prefixes)
    table = [line for line in lines if line and line.split("  ")[0].strip() in benchmark.rows]
    assert [line.split("  ")[0].strip() for line in table] == benchmark.rows
    for prefix in benchmark.lines:
        assert any(line.startswith(prefix) for line in lines), (prefix, lines)

    assert [row["name"] for row in result["rows"]] == benchmark.rows
    assert [row["chunks"] for row in result["rows"]] == benchmark.chunks
    assert result["header"]["quick"] is True
    assert result["memory"]["calls"] == 300
    # Every instrumented call produced exactly one span (the exporter drops them): 300 measured + warm-up.
    assert result["memory"]["spans_exported"] == 350
    assert result["memory"]["tracked_objects_after"] == 0
    attributes = result["floor"]["attributes"]
    floor = {key: value for key, value in attributes.items() if "messages" not in key and "instructions" not in key}
    if not benchmark.every_floor_attribute:
        floor = {key: floor.get(key) for key in benchmark.floor}
    assert floor == benchmark.floor
    for row in result["rows"]:
        assert row["blocks"] == 2
        assert row["off_us"] > 0 and row["on_us"] > 0


def test_quick_peers_benchmark_without_peer_venvs(tmp_path: Path) -> None:
    """`--peers ''`: only the bare SDKs and llmtap (the peers' venvs take minutes to build: not in CI)."""
    pytest.importorskip("httpx2")
    lines, result = _quick("bench_peers.py", tmp_path, "--peers", "")

    workloads = [
        "chat",
        "chat stream 50 chunks",
        "chat, two tool calls",
        "async chat",
        "anthropic message",
        "anthropic stream 50 deltas",
    ]
    assert [line.split("  ")[0] for line in lines if line.split("  ")[0] in workloads][:6] == workloads
    assert list(result["rows"]) == workloads
    assert result["rounds"] == 2
    for workload in workloads:
        assert list(result["rows"][workload]["added_us"]) == ["llmtap"]
        assert len(result["blocks"][workload]["bare"]) == 2
        (span,) = result["probes"][workload]["llmtap"]["spans"]
        assert span[0] in ("chat gpt-4o-mini", "chat claude-sonnet-5-5")
        assert result["probes"][workload]["llmtap"]["content"] is True
        assert result["probes"][workload]["bare"]["spans"] == []


def test_quick_startup_benchmark(tmp_path: Path) -> None:
    lines, result = _quick("bench_startup.py", tmp_path)

    assert any(line.startswith("                  both / the SDK imports") for line in lines), lines
    assert result["runs"] == 1
    assert sorted(result["raw"]) == ["llmtap after", "llmtap before", "sdks"]
    assert sorted(result["raw"]["llmtap after"][0]) == ["import", "instrument", "sdks"]
    for clock in ("wall", "cpu"):
        assert result[clock]["sdks_ms"] > 0
        assert result[clock]["after_llmtap_ms"] > 0


def test_quick_cost_benchmark_prints_every_row() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_cost.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split("  ")[0].strip() for line in done.stdout.splitlines()[1:] if not line.startswith("llmtap:")]
    assert rows == [
        "uninstrumented chat call",
        "price, genai-prices model",
        "price, tiered (Anthropic long context)",
        "price, config override",
        "price, unknown model",
        "first priced call in a process (ms)",
    ]
