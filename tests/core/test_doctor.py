"""`llmtap --version` and `llmtap doctor`: plugins, settings with their sources, destinations, content policy."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

from click.testing import CliRunner

import llmtap
from llmtap.cli import main
from llmtap.cli.doctor import SECTIONS, report


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"llmtap {llmtap.__version__}\n"


def test_report_plugins_with_library_versions_against_their_ranges(tmp_path: Path) -> None:
    result = report(environ={"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "anthropic"}, cwd=tmp_path)
    plugins = {row["name"]: row for row in result["plugins"]}
    assert sorted(plugins) == ["anthropic", "langchain", "openai"]
    assert plugins["openai"] == {
        "name": "openai",
        "distribution": "llmtap-openai",
        "version": llmtap.__version__,
        "library": "openai",
        "supported": ["openai >= 3.50, < 4"],
        "library_version": version("openai"),
        "status": "ready",
        "detail": "llmtap.instrument() or opentelemetry-instrument will instrument it",
    }
    assert (plugins["anthropic"]["status"], plugins["anthropic"]["detail"]) == (
        "disabled",
        "named in OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
    )
    assert plugins["langchain"]["library_version"] == version("langchain-core")


def test_report_says_where_each_setting_came_from(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.llmtap]\nmax_content_chars = 100\n[tool.llmtap.labels.user_id]\ntype = "string"\n'
    )
    environ = {"LLMTAP_CAPTURE_CONTENT": "false", "LLMTAP_CAPTUR_CONTENT": "true"}
    result = report(environ=environ, cwd=tmp_path)
    source = f"{tmp_path / 'pyproject.toml'} [tool.llmtap]"
    assert result["settings"]["config_file"] == source
    values = result["settings"]["values"]
    assert values["max_content_chars"] == {"value": 100, "from": f"file ({source})"}
    assert values["capture_content"] == {"value": False, "from": "environment (LLMTAP_CAPTURE_CONTENT)"}
    assert values["enabled"] == {"value": True, "from": "default"}
    assert values["[labels]"] == {"value": "1 entry", "from": f"file ({source})"}
    assert result["content"]["capture"] is False
    assert result["content"]["capture_from"] == "environment (LLMTAP_CAPTURE_CONTENT)"
    assert result["problems"] == [
        {
            "level": "warning",
            "message": "LLMTAP_CAPTUR_CONTENT is not an llmtap setting and is ignored; did you mean "
            "LLMTAP_CAPTURE_CONTENT?",
        }
    ]


def test_report_says_where_telemetry_goes(tmp_path: Path) -> None:
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "console,otlp"}
    telemetry = report(environ=environ, cwd=tmp_path)["telemetry"]
    assert telemetry["traces"] == {
        "to": ["console (stdout)", "OTLP/HTTP http://collector:4318/v1/traces"],
        "problem": None,
    }
    assert telemetry["metrics"]["to"] == ["OTLP/HTTP http://collector:4318/v1/metrics"]
    assert telemetry["logs"]["to"] == ["OTLP/HTTP http://collector:4318/v1/logs"]
    assert telemetry["otlp_export_timeout_s"] == 2.0
    assert telemetry["launcher"].startswith("opentelemetry-distro is installed")

    nothing = report(environ={}, cwd=tmp_path)  # nothing configured: the local store records the traces
    (traces,) = nothing["telemetry"]["traces"]["to"]
    assert traces.startswith("the local store /") and traces.endswith("/.llmtap/llmtap.db (`llmtap traces` lists them)")
    assert nothing["telemetry"]["logs"]["to"] == ["not exported (no OTEL_LOGS_EXPORTER, no OTLP endpoint)"]
    no_store = report(environ={"LLMTAP_STORE": "off"}, cwd=tmp_path)
    assert no_store["telemetry"]["traces"]["to"] == ["nowhere until the application sets up a provider"]

    broken = report(environ={"OTEL_METRICS_EXPORTER": "prometheus"}, cwd=tmp_path)
    assert broken["problems"] == [
        {
            "level": "error",
            "message": "OTEL_METRICS_EXPORTER='prometheus': unknown exporter 'prometheus'; expected otlp, console "
            "or none; llmtap is off",
        }
    ]


def test_doctor_command_prints_the_report_and_its_json(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("LLMTAP_CAPTURE_CONTENT", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "LLMTAP_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LLMTAP_MAX_CONTENT_CHARS", "lots")
    runner = CliRunner()
    as_json = runner.invoke(main, ["doctor", "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert list(data) == ["llmtap", *SECTIONS]
    assert data["settings"]["values"]["enabled"] == {"value": False, "from": "fallback"}
    text = runner.invoke(main, ["doctor"])
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0] == f"llmtap {llmtap.__version__} (Python {data['llmtap']['python']})"
    assert "  enabled                    false                 from fallback" in lines
    assert "             off: llmtap is off (see settings)" in lines
    assert lines[-1] == (
        "  ERROR LLMTAP_MAX_CONTENT_CHARS='lots': expected a whole number >= 0 (0 means no limit); llmtap is off"
    )
