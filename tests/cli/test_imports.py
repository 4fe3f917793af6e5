"""What the commands that read traces import (no timing here: benchmarks/bench_cli.py measures their wall time).

`llmtap traces` and `llmtap show` start as fresh processes on every call, so each module they import is paid on every
call: they read the store without its write path (span conversion, OpenTelemetry, the label machinery, the checkpoint
thread), and print `--json` without rich. Each case runs the real entry point (`llmtap.cli:main`) in a fresh
interpreter and lists the modules it imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, set_span_in_context

from llmtap.store.exporter import StoreSpanExporter
from tests.cli.conftest import TRACE_A, chat, write_traces
from tests.support.environment import child_env

RUN = """
import json, sys
from llmtap.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    sys.stdout.flush()
    print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""

# The store's write path and everything capturing needs: a command reading the store imports none of it.
WRITE_PATH = (
    "llmtap.store.convert",
    "llmtap.store.checkpoint",
    "llmtap.store.exporter",
    "llmtap.labels.policy",
    "llmtap.labels.context",
    "llmtap.redaction",
    "llmtap.content",
    "opentelemetry.trace",
    "opentelemetry.context",
    "opentelemetry.sdk",
    "hashlib",
)


# What `pathlib` imports (~7 ms): the commands reading the store keep its path as a str.
PATHLIB = ("pathlib", "urllib.parse", "ipaddress")


def run_python(code: str, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -c code *args` in a fresh interpreter, without the caller's LLMTAP_/OTEL_ settings (`env` added)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**child_env(), **env},
        check=False,
    )


def imported(tmp_path: Path, *args: str, **env: str) -> tuple[str, list[str]]:
    done = run_python(RUN, tmp_path, *args, **env)
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(done.stderr.splitlines()[-1])


def among(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    """The modules that are one of `packages` or inside one."""
    return [name for name in modules if any(name == package or name.startswith(package + ".") for package in packages)]


@pytest.mark.parametrize("command", [["traces", "--json"], ["show", TRACE_A[:8], "--json"]])
def test_json_output_imports_no_rich_and_no_write_path(store_file: Path, tmp_path: Path, command: list[str]) -> None:
    out, modules = imported(tmp_path, *command, LLMTAP_STORE=str(store_file))

    assert json.loads(out)  # the command did its job
    assert among(modules, ("rich",)) == []
    assert among(modules, WRITE_PATH) == []
    # A set LLMTAP_STORE is the store: the settings (config file, redaction) are not loaded for it.
    assert among(modules, ("llmtap.config", "tomllib")) == []
    # The records of the other reads (stats, review queues, store info) are not defined either.
    assert "llmtap.store.results" not in modules


def test_the_traces_table_imports_rich_console_and_text_only(store_file: Path, tmp_path: Path) -> None:
    out, modules = imported(tmp_path, "traces", "--store", str(store_file))

    assert out.startswith("traces 1-3 of 3, newest first\n")
    assert {"rich.console", "rich.text"} <= set(modules)
    assert among(modules, ("rich.table", "rich.tree", "rich._emoji_codes", "rich.progress")) == []
    # The store's path stays a str: pathlib (with urllib.parse and ipaddress) is not imported.
    assert among(modules, PATHLIB) == []
    assert among(modules, WRITE_PATH) == []
    assert among(modules, ("opentelemetry",)) == []
    # A listing reads trace summaries: the records of a trace in full and of the other reads are not defined.
    assert among(modules, ("llmtap.store.detail", "llmtap.store.results")) == []


def test_show_renders_with_the_semconv_names_and_no_label_machinery(store_file: Path, tmp_path: Path) -> None:
    out, modules = imported(tmp_path, "show", TRACE_A[:8], "--store", str(store_file))

    assert out.startswith(f"trace {TRACE_A}")
    assert {"rich.tree", "rich.table", "llmtap.labels.spans", "llmtap.semconv_names"} <= set(modules)
    # The GenAI names are read from the semconv module's source (`llmtap.semconv_names`), not imported with it.
    assert "opentelemetry.semconv._incubating.attributes.gen_ai_attributes" not in modules
    assert "typing_extensions" not in modules
    assert among(modules, PATHLIB) == []
    assert among(modules, WRITE_PATH) == []


def test_show_defines_the_annotation_record_only_for_a_trace_with_annotations(store_file: Path, tmp_path: Path) -> None:
    _, annotated = imported(tmp_path, "show", TRACE_A[:8], "--store", str(store_file))
    bare = tmp_path / "bare.db"
    write_traces(bare)  # the same traces, no annotations
    out, modules = imported(tmp_path, "show", TRACE_A[:8], "--store", str(bare))

    assert "llmtap.store.annotation_record" in annotated
    assert "no annotations" in out
    assert "llmtap.store.detail" in modules
    assert "llmtap.store.annotation_record" not in modules
    # The annotations are a rich table; the conversation's chat turns (shown here) are laid out without one.
    assert "rich.table" in annotated
    assert "\n      user " in out
    assert among(modules, ("rich.table", "fractions", "decimal")) == []
    assert "llmtap.cli.traces" not in modules  # the listing's command is not built to show a trace


def test_show_of_a_trace_recorded_without_content_imports_no_table(tmp_path: Path) -> None:
    path = tmp_path / "no-content.db"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(path)))
    tracer = provider.get_tracer("tests")
    root = tracer.start_span("invoke_workflow answer", attributes={"gen_ai.operation.name": "invoke_workflow"})
    tracer.start_span(
        "chat gpt-4o-mini",
        context=set_span_in_context(root),
        kind=SpanKind.CLIENT,
        attributes=chat("gpt-4o-mini", "openai", (12, 3), {}),  # capture off: no messages
    ).end()
    root.end()
    provider.shutdown()
    trace_id = format(root.get_span_context().trace_id, "032x")

    out, modules = imported(tmp_path, "show", trace_id, "--store", str(path))

    assert out.startswith(f"trace {trace_id}")
    assert out.endswith("no conversation captured (content capture was off, or no model call)\n")
    assert "rich.tree" in modules
    assert among(modules, ("rich.table", "fractions", "decimal")) == []


def test_the_default_store_path_in_a_project_that_configures_no_llmtap_loads_no_settings(
    store_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\ndependencies = ["llmtap==0.1.0"]\n')
    (tmp_path / ".llmtap").mkdir()
    (tmp_path / ".llmtap" / "llmtap.db").symlink_to(store_file)

    out, modules = imported(tmp_path, "traces", "--json")

    assert [trace["trace_id"][:2] for trace in json.loads(out)] == ["c3", "b2", "a1"]
    assert among(modules, ("llmtap.config", "tomllib")) == []
    assert among(modules, WRITE_PATH) == []
    assert among(modules, PATHLIB) == []


def test_a_store_set_in_tool_llmtap_loads_the_settings_without_the_capture_modules(
    store_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(f'[tool.llmtap]\nstore = "{store_file}"\n')

    out, modules = imported(tmp_path, "traces", "--json")

    assert [trace["trace_id"][:2] for trace in json.loads(out)] == ["c3", "b2", "a1"]
    assert {"llmtap.config", "tomllib"} <= set(modules)
    assert among(modules, WRITE_PATH) == []
