"""`llmtap stats` through its real entry point: JSON exactly (hand-derived percentiles and intervals), the tables."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from llmtap.cli import main
from tests.cli.conftest import cost

Z2 = 1.959963984540054**2


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "120"})


def stats_json(store_file: Path, *args: str) -> dict:
    result = invoke("stats", "--store", str(store_file), "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_by_model(store_file: Path) -> None:
    # gpt-4o-mini calls last 200, 100 and 300 ms: p50 = 200, p95 = 200 + 0.9 * 100, p99 = 200 + 0.98 * 100.
    assert stats_json(store_file) == {
        "by": "model",
        "groups": [
            {
                "group": "gpt-4o-mini",
                "calls": 3,
                "input_tokens": 210,
                "output_tokens": 42,
                "cost_usd": round(cost(100, 20) + cost(60, 12) + cost(50, 10), 8),
                "priced_calls": 3,
                "errors": 0,
                "error_rate": 0.0,
                "latency_ms": {"p50": 200.0, "p95": 290.0, "p99": 298.0},
            },
            {
                "group": "claude-haiku-4-5",
                "calls": 1,
                "input_tokens": 0,
                "output_tokens": 0,
                "cost_usd": None,
                "priced_calls": 0,
                "errors": 1,
                "error_rate": 1.0,
                "latency_ms": {"p50": 400.0, "p95": 400.0, "p99": 400.0},
            },
        ],
    }


def test_by_provider_with_filters(store_file: Path) -> None:
    data = stats_json(store_file, "--by", "provider", "--label", "prompt_version=v2", "--annotated", "helpfulness=5")
    assert data["groups"] == [
        {
            "group": "openai",
            "calls": 1,
            "input_tokens": 50,
            "output_tokens": 10,
            "cost_usd": round(cost(50, 10), 8),
            "priced_calls": 1,
            "errors": 0,
            "error_rate": 0.0,
            "latency_ms": {"p50": 300.0, "p95": 300.0, "p99": 300.0},
        }
    ]


def test_categorical_annotation_by_label_with_wilson_intervals(store_file: Path) -> None:
    data = stats_json(store_file, "--by", "label.prompt_version", "--annotation", "user_feedback")
    assert [group["group"] for group in data["groups"]] == ["v1", "v2"]
    # Wilson at the ends: 0 of n -> [0, z²/(n+z²)], n of n -> [n/(n+z²), 1].
    assert data["annotation"] == {
        "name": "user_feedback",
        "kind": "categorical",
        "groups": [
            {
                "group": "v1",
                "count": 1,
                "values": [
                    {"value": "thumbs_down", "count": 1, "share": 1.0, "ci95": [round(1 / (1 + Z2), 6), 1.0]},
                    {"value": "thumbs_up", "count": 0, "share": 0.0, "ci95": [0.0, round(Z2 / (1 + Z2), 6)]},
                ],
            },
            {
                "group": "v2",
                "count": 2,
                "values": [
                    {"value": "thumbs_down", "count": 0, "share": 0.0, "ci95": [0.0, round(Z2 / (2 + Z2), 6)]},
                    {"value": "thumbs_up", "count": 2, "share": 1.0, "ci95": [round(2 / (2 + Z2), 6), 1.0]},
                ],
            },
        ],
    }
    assert data["annotation"]["groups"][0]["values"][0]["ci95"] == [0.206549, 1.0]


def test_numeric_annotation_mean_with_t_interval(store_file: Path) -> None:
    data = stats_json(store_file, "--by", "label.prompt_version", "--annotation", "helpfulness")
    # v2: scores 4 and 5, mean 4.5, s = 0.7071, se = 0.5, t(0.975, 1) = 12.7062047 -> 4.5 ± 6.3531024.
    assert data["annotation"] == {
        "name": "helpfulness",
        "kind": "numeric",
        "groups": [
            {"group": "v1", "count": 1, "mean": 2.0, "ci95": None},
            {"group": "v2", "count": 2, "mean": 4.5, "ci95": [-1.853102, 10.853102]},
        ],
    }


def test_tables(store_file: Path) -> None:
    by = ["--by", "label.prompt_version"]
    result = invoke("stats", "--store", str(store_file), *by, "--annotation", "user_feedback")
    assert result.exit_code == 0, result.output
    assert [line.rstrip() for line in result.output.splitlines()] == [
        "model calls by label.prompt_version",
        "label.prompt_version  calls  tokens in  tokens out     cost $   errors  p50 ms  p95 ms  p99 ms",
        "v1                        1        100          20   0.000027        0     200     200     200",
        "v2                        3        110          22  0.000030*  1 (33%)     300     390     398",
        "* cost of the priced calls only: the group has calls with no known price or usage",
        "",
        "annotation user_feedback by label.prompt_version (share of each value, Wilson 95% CI)",
        "label.prompt_version  n  thumbs_down           thumbs_up",
        "v1                    1  100% (1) [21%, 100%]  0% (0) [0%, 79%]",
        "v2                    2  0% (0) [0%, 66%]      100% (2) [34%, 100%]",
    ]


def test_bad_grouping_is_named(store_file: Path) -> None:
    result = invoke("stats", "--store", str(store_file), "--by", "labels.x")
    assert result.exit_code == 1
    assert "Error: --by 'labels.x': expected model, provider or label.KEY (e.g. label.prompt_version)" in result.output
    result = invoke("stats", "--store", str(store_file), "--annotation", "user_feedback")
    assert result.exit_code == 1
    assert "with --annotation: annotations are grouped by a trace label (--by label.KEY)" in result.output
