"""The OpenAI overhead benchmark runs end to end in its quick mode (a smoke test: no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("openai")
pytest.importorskip("httpx2")

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_openai.py"
ROWS = [
    "chat",
    "chat stream 50 chunks",
    "chat stream 250 chunks",
    "chat, two tool calls",
    "async chat",
]


def test_quick_benchmark_prints_every_row(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    # Environment settings that would change what is measured are cleared; the rest is inherited.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LLMTAP_", "OTEL_"))}
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    table = [line for line in lines if line and line.split("  ")[0].strip() in ROWS]
    assert [line.split("  ")[0].strip() for line in table] == ROWS
    for prefix in (
        "floor: one SDK span",
        "overhead/floor (chat, non-streamed):",
        "floor in situ",
        "marginal µs per streamed chunk",
        "RSS growth over 300 chat calls",
    ):
        assert any(line.startswith(prefix) for line in lines), (prefix, done.stdout)

    result = json.loads(out.read_text())
    assert [row["name"] for row in result["rows"]] == ROWS
    assert result["header"]["quick"] is True
    assert result["memory"]["calls"] == 300
    # Every instrumented call produced exactly one span (the exporter drops them): 300 measured + warm-up.
    assert result["memory"]["spans_exported"] == 350
    assert result["memory"]["tracked_objects_after"] == 0
    attributes = result["floor"]["attributes"]
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.provider.name"] == "openai"
    assert attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert attributes["gen_ai.response.model"] == "gpt-4o-mini-2024-07-18"
    assert attributes["gen_ai.usage.input_tokens"] == 23
    assert attributes["gen_ai.usage.output_tokens"] == 12
    for row in result["rows"]:
        assert row["blocks"] == 2
        assert row["off_us"] > 0 and row["on_us"] > 0


ANTHROPIC_BENCHMARK = BENCHMARK.with_name("bench_anthropic.py")
ANTHROPIC_ROWS = ["message", "message stream 50 deltas", "helper stream 50 deltas", "message stream 250 deltas"]


def test_quick_anthropic_benchmark_prints_every_row(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LLMTAP_", "OTEL_", "ANTHROPIC_"))}
    done = subprocess.run(
        [sys.executable, str(ANTHROPIC_BENCHMARK), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    table = [line for line in lines if line and line.split("  ")[0].strip() in ANTHROPIC_ROWS]
    assert [line.split("  ")[0].strip() for line in table] == ANTHROPIC_ROWS
    for prefix in (
        "floor: one SDK span, message span's",
        "overhead/floor (message, non-streamed):",
        "floor in situ",
        "marginal µs per streamed delta",
        "RSS growth over 300 message calls",
    ):
        assert any(line.startswith(prefix) for line in lines), (prefix, done.stdout)

    result = json.loads(out.read_text())
    assert [row["name"] for row in result["rows"]] == ANTHROPIC_ROWS
    assert [row["chunks"] for row in result["rows"]] == [0, 50, 50, 250]
    assert result["header"]["quick"] is True
    assert result["memory"]["calls"] == 300
    assert result["memory"]["spans_exported"] == 350
    assert result["memory"]["tracked_objects_after"] == 0
    attributes = result["floor"]["attributes"]
    assert {key: attributes[key] for key in attributes if "messages" not in key and "instructions" not in key} == {
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
    }
    for row in result["rows"]:
        assert row["blocks"] == 2
        assert row["off_us"] > 0 and row["on_us"] > 0
