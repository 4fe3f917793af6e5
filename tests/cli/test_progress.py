"""Progress bars of the long commands (`purge`, `stats`): on stderr when it is a terminal, never with `--json`, and
stdout the same either way. Run through the installed `llmtap` entry point with stderr on a pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from llmtap.cli import main
from llmtap.store import open_store
from tests.support.environment import child_env

LLMTAP = Path(sys.executable).with_name("llmtap")


def run_on_a_terminal(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout (a pipe) and what was written to stderr (a pseudo-terminal)."""
    env = child_env()
    env |= {"TERM": "xterm-256color", "COLUMNS": "100"}
    terminal, stderr = pty.openpty()
    process = subprocess.Popen([str(LLMTAP), *args], stdout=subprocess.PIPE, stderr=stderr, env=env)
    os.close(stderr)
    out = process.stdout.read() if process.stdout else b""
    seen = b""
    while True:
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # the writer closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(terminal)
    return process.wait(timeout=60), out.decode(), seen.decode(errors="replace")


def test_purge_json_is_unchanged_on_a_terminal_and_draws_no_bar(store_file: Path) -> None:
    store = open_store(store_file, create=False)
    before = store.info()
    store.close()
    code, out, err = run_on_a_terminal("purge", "--before", "2030-01-01", "--store", str(store_file), "--json")
    assert code == 0, err
    assert json.loads(out) == {"traces": 3, "spans": before.span_count, "annotations": before.annotation_count}
    assert err == ""


def test_purge_draws_its_bar_on_the_terminal_only(store_file: Path) -> None:
    code, out, err = run_on_a_terminal("purge", "--before", "2030-01-01", "--store", str(store_file))
    assert code == 0, err
    assert "purging traces" in err
    assert "purging traces" not in out
    assert out.startswith("purged 3 trace(s), ")


def test_stats_json_is_byte_for_byte_the_same_with_a_terminal(store_file: Path) -> None:
    args = ("stats", "--by", "label.prompt_version", "--annotation", "user_feedback", "--store", str(store_file))
    expected = CliRunner().invoke(main, [*args, "--json"], env={"COLUMNS": "100"})
    assert expected.exit_code == 0, expected.output
    code, out, err = run_on_a_terminal(*args, "--json")
    assert code == 0, err
    assert out == expected.output
    assert err == ""
    code, out, err = run_on_a_terminal(*args)
    assert code == 0, err
    assert "reading model calls" in err
    assert out.startswith("model calls by label.prompt_version")
