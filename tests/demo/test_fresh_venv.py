"""`llmtap demo` after a plain `pip install "llmtap[demo]"` into a fresh virtual environment, offline: the package
ships everything the demo needs (app, recorded responses, loopback server), not only a clone does.

The wheels of llmtap and its plugins are built from this tree; their dependencies come from a local wheelhouse
(downloaded once per set of pyproject files into ~/.cache/llmtap-tests, outside the clone), and the install
runs with `--no-index`. The demo runs with every proxy variable pointing at a closed port, so any attempt to
reach the network would fail it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = [ROOT, *sorted((ROOT / "instrumentors").iterdir())]
CACHE = Path(os.environ.get("LLMTAP_TEST_CACHE", Path.home() / ".cache" / "llmtap-tests"))


def pip(*args: str, python: str = sys.executable) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", python, *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def wheelhouse(wheels: Path) -> Path:
    """The demo's dependencies as wheels, downloaded once per set of pyproject files."""
    key = hashlib.sha256(b"".join((project / "pyproject.toml").read_bytes() for project in PROJECTS)).hexdigest()
    house = CACHE / f"wheelhouse-{key[:16]}"
    if not (house / ".complete").exists():
        house.mkdir(parents=True, exist_ok=True)
        pip("download", "--quiet", "--dest", str(house), "--find-links", str(wheels), "llmtap[demo]")
        (house / ".complete").touch()
    # Only the dependencies stay cached: a wheel of llmtap or a plugin kept here would be this tree as it was when
    # the house was filled, and pip could install it instead of the one just built (same version).
    for stale in house.glob("llmtap*.whl"):
        stale.unlink(missing_ok=True)
    return house


def test_demo_runs_after_pip_install_offline(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    pip("wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(wheels), *map(str, PROJECTS))
    assert sorted(path.name.split("-")[0] for path in wheels.iterdir()) == [
        "llmtap", "llmtap_anthropic", "llmtap_langchain", "llmtap_openai"
    ]  # fmt: skip
    house = wheelhouse(wheels)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    pip("install", "--quiet", "--no-compile", "--no-index", "--find-links", str(wheels), "--find-links", str(house),
        "llmtap[demo]", python=python)  # fmt: skip

    work = tmp_path / "elsewhere"  # not the clone: nothing of the source tree is importable
    work.mkdir()
    dead = "http://127.0.0.1:9"
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "COLUMNS": "140",
        **{name: dead for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")},
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    result = subprocess.run(
        [str(venv / "bin" / "llmtap"), "demo"], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "recorded 12 traces into .llmtap/demo.db" in result.stdout
    assert "✗ OverloadedError" in result.stdout
    assert (work / ".llmtap" / "demo.db").is_file()
    # The store's directory and file are its owner's only, as for every store (they hold the conversations).
    assert stat.S_IMODE((work / ".llmtap").stat().st_mode) == 0o700
    assert stat.S_IMODE((work / ".llmtap" / "demo.db").stat().st_mode) == 0o600
    assert len((work / ".llmtap" / "demo-review.jsonl").read_text().splitlines()) == 3
    # The review commands it suggests work with what `llmtap[demo]` installs (agreement needs krippendorff).
    stats = subprocess.run(
        [str(venv / "bin" / "llmtap"), "queue", "stats", "review"],
        cwd=work,
        env={**env, "LLMTAP_CONFIG": ".llmtap/demo.toml", "LLMTAP_STORE": ".llmtap/demo.db"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert stats.returncode == 0, stats.stdout + stats.stderr
    assert stats.stdout.startswith("review: 1 pending, 0 claimed, 3 completed, 0 skipped\n")
    location = subprocess.run(
        [python, "-c", "import llmtap.demo; print(llmtap.demo.__file__)"], capture_output=True, text=True, env=env
    )
    assert location.stdout.startswith(str(venv)), location.stdout
