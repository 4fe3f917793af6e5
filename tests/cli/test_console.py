"""The `llmtap` script (`llmtap.console`): the garbage collector is off for the commands reading one page or one
trace, on for every other; `llmtap.cli` used in a process of its own (as these tests do) changes neither."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.cli.conftest import TRACE_A
from tests.cli.test_imports import run_python

RUN = """
import gc, sys
from llmtap.console import main
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
finally:
    sys.stdout.flush()
print(gc.isenabled(), file=sys.stderr)
"""


def test_the_script_is_llmtap_console() -> None:
    [script] = entry_points(group="console_scripts", name="llmtap")
    assert script.value == "llmtap.console:main"


@pytest.mark.parametrize(
    ("command", "collecting"),
    [
        (["traces", "--json"], False),
        (["show", TRACE_A[:8], "--json"], False),
        (["stats", "--json"], True),
        (["--version"], True),
    ],
)
def test_the_collector_is_off_only_for_traces_and_show(
    store_file: Path, tmp_path: Path, command: list[str], collecting: bool
) -> None:
    done = run_python(RUN, tmp_path, *command, LLMTAP_STORE=str(store_file))
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == str(collecting)
    if command[0] != "--version":
        assert json.loads(done.stdout)  # the command did its job


def test_importing_the_commands_leaves_the_collector_alone(tmp_path: Path) -> None:
    code = "import gc, llmtap.cli; print(gc.isenabled(), gc.get_freeze_count())"
    done = run_python(code, tmp_path)
    assert done.stdout.split() == ["True", "0"]
