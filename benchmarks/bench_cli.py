"""`llmtap traces` and `llmtap show` as a user runs them from a shell, on a store of 1,000,000 spans: wall time of
the whole command (interpreter start, imports, store opened, query, output), each run a fresh process.

    .venv/bin/python benchmarks/bench_cli.py                 # 15 rounds on the big store (~1 min once it exists)
    .venv/bin/python benchmarks/bench_cli.py --quick         # a small store, 2 rounds (smoke; figures not meaningful)
    .venv/bin/python benchmarks/bench_cli.py --tty           # output to a pseudo-terminal (colours) instead of a pipe
    .venv/bin/python benchmarks/bench_cli.py --importtime    # also where each command's import time goes
    .venv/bin/python benchmarks/bench_cli.py --store FILE    # any store (`show` takes a trace of it)

The store is bench_store.py's (`~/.cache/llmtap/bench-store-<spans>-v<schema>.db`, `--cache DIR`, `--spans N`):
built once (~10 min for 1,000,000 spans), or migrated forward from an older schema version. Each command is the
installed `llmtap` script (next to this Python), with no `LLMTAP_*` / `OTEL_*` setting, in a project directory: a
`pyproject.toml` (no `[tool.llmtap]` table) and the store at the default path `.llmtap/llmtap.db` (a link to the
benchmark's store), as a user runs it where the application recorded; `--env-store` sets `LLMTAP_STORE=<the
store>` instead (the settings file is then not read). Stdout is a pipe read to the end (a page is then 10 traces,
as on a 26-line terminal) or, with `--tty`, a 120x26 pseudo-terminal. The commands run
round by round in a shuffled order, so load from other processes hits them alike; per command the median and
the minimum of the wall clock over the rounds, and the median CPU time (user + system, of the process).

Beside them, in the same rounds: `python -c pass` (the interpreter alone) and `python -c "import click, sqlite3,
rich.console"` (what any click + rich command reading SQLite imports), the floor the llmtap commands stand on.

`--before SRC`: each llmtap command also run with another checkout's `src/` first on `PYTHONPATH` (`git worktree add
/tmp/old <commit>`, then `--before /tmp/old/src`), in the same rounds: before / after figures under the same load.
(A tree older than `llmtap.console`, the script's entry point, runs by the script pip wrote for it then.)

`--importtime`: one extra run of each command under `python -X importtime`, its modules' own import times summed
by package (click, rich, llmtap, sqlite3, opentelemetry, the rest of the standard library and others); the rest
of the wall time is the interpreter's start, the store and the query, and the output.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_store import RARE_WORD, big_store
from llmtap.store import TraceQuery, open_store

FLOOR_IMPORTS = "import click, sqlite3, rich.console"
GROUPS = ("click", "rich", "llmtap", "sqlite3", "opentelemetry")


def commands(trace_prefix: str) -> dict[str, list[str]]:
    """Name -> arguments of the `llmtap` script."""
    return {
        "llmtap --version": ["--version"],
        "llmtap traces": ["traces"],
        "llmtap traces --json": ["traces", "--json"],
        "llmtap traces --label prompt_version=v2": ["traces", "--label", "prompt_version=v2"],
        "llmtap traces --label user_id=u-7": ["traces", "--label", "user_id=u-7"],
        "llmtap traces --search refund": ["traces", "--search", "refund"],
        f"llmtap traces --search {RARE_WORD}": ["traces", "--search", RARE_WORD],
        "llmtap show PREFIX": ["show", trace_prefix],
        "llmtap show PREFIX --json": ["show", trace_prefix, "--json"],
    }


def _script() -> str:
    script = Path(sys.executable).with_name("llmtap")
    if not script.exists():
        raise SystemExit(f"no llmtap script next to {sys.executable}: run from the checkout's .venv (scripts/setup.sh)")
    return str(script)


def _script_of(src: Path, script: str) -> list[str]:
    """How the `llmtap` script runs the code of `src`: a tree from before `llmtap.console` (whose script imported
    `llmtap.cli:main`) gets the script pip wrote for it then, run by the same Python."""
    if (src / "llmtap" / "console.py").exists():
        return [script]
    old = Path(tempfile.mkdtemp(prefix="llmtap-script-")) / "llmtap"
    old.write_text(
        "import sys\nfrom llmtap.cli import main\nif __name__ == '__main__':\n"
        "    sys.argv[0] = sys.argv[0].removesuffix('.exe')\n    sys.exit(main())\n"
    )
    return [sys.executable, str(old)]


PYPROJECT = '[project]\nname = "shop"\nversion = "0.1.0"\ndependencies = ["llmtap", "openai"]\n'


def _project(folder: str, store: Path) -> None:
    """`folder` as an application's directory: its pyproject.toml, and the store where llmtap records by default."""
    (Path(folder) / "pyproject.toml").write_text(PYPROJECT)
    (Path(folder) / ".llmtap").mkdir()
    (Path(folder) / ".llmtap" / "llmtap.db").symlink_to(store.resolve())


def _env(store: Path, tty: bool, env_store: bool) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LLMTAP_", "OTEL_", "COLUMNS", "PYTHONDONTWRITEBYTECODE"))
    }
    env.pop("LINES", None)
    if env_store:
        env["LLMTAP_STORE"] = str(store.resolve())
    if tty:
        env.setdefault("TERM", "xterm-256color")
    return env


def _run_tty(argv: list[str], cwd: str, env: dict[str, str]) -> tuple[int, bytes]:
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 26, 120, 0, 0))
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, cwd=cwd, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    process.stderr.read()  # type: ignore[union-attr]
    return process.wait(), b"".join(chunks)


def run_once(argv: list[str], cwd: str, env: dict[str, str], tty: bool) -> tuple[float, float, bytes]:
    """(wall ms, CPU ms, stdout) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    if tty:
        code, out = _run_tty(argv, cwd, env)
        err = b""
    else:
        done = subprocess.run(argv, capture_output=True, cwd=cwd, env=env, check=False)
        code, out, err = done.returncode, done.stdout, done.stderr
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0 or not out.strip():
        raise SystemExit(f"{argv} failed (exit {code}):\n{err.decode(errors='replace')}{out.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000, out


def bench(
    store: Path, rounds: int, tty: bool, env_store: bool, before: Path | None = None
) -> dict[str, dict[str, float]]:
    opened = open_store(store, create=False)
    traces = opened.count_traces(TraceQuery(), at_most=1235)
    trace_id = opened.query_traces(TraceQuery(limit=1, offset=min(1234, traces - 1)))[0].trace_id
    opened.close()
    script = _script()
    programs = {
        "python -c pass": [sys.executable, "-c", "pass"],
        f'python -c "{FLOOR_IMPORTS}"': [sys.executable, "-c", FLOOR_IMPORTS],
        **{name: [script, *args] for name, args in commands(trace_id[:8]).items()},
    }
    env = _env(store, tty, env_store)
    envs = dict.fromkeys(programs, env)
    if before is not None:  # the same commands run by another checkout's code, in the same rounds
        old = {**env, "PYTHONPATH": str(before.resolve())}
        old_script = _script_of(before, script)
        for name, args in commands(trace_id[:8]).items():
            programs[f"before: {name}"] = [*old_script, *args]
            envs[f"before: {name}"] = old
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in programs}
    sizes: dict[str, int] = {}
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as cwd:
        _project(cwd, store)
        for name, argv in programs.items():  # warm-up: page cache, .pyc files
            if not name.startswith("python"):
                run_once(argv, cwd, envs[name], tty)
        for _ in range(rounds):
            order = list(programs)
            rng.shuffle(order)
            for name in order:
                argv = programs[name]
                if name.startswith("python"):
                    wall, cpu, _ = _run_floor(argv, cwd, env)
                else:
                    wall, cpu, out = run_once(argv, cwd, envs[name], tty)
                    sizes[name] = len(out)
                samples[name].append((wall, cpu))
    return {
        name: {
            "wall_ms_median": statistics.median(wall for wall, _ in runs),
            "wall_ms_min": min(wall for wall, _ in runs),
            "cpu_ms_median": statistics.median(cpu for _, cpu in runs),
            "output_bytes": sizes.get(name, 0),
        }
        for name, runs in samples.items()
    }


def _run_floor(argv: list[str], cwd: str, env: dict[str, str]) -> tuple[float, float, bytes]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, cwd=cwd, env=env, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall * 1000, ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000, b""


def import_breakdown(store: Path, tty: bool, env_store: bool) -> dict[str, dict[str, float]]:
    """Per command: the import time (ms, the modules' own, from one `-X importtime` run) by package."""
    opened = open_store(store, create=False)
    trace_id = opened.query_traces(TraceQuery(limit=1))[0].trace_id
    opened.close()
    script = _script()
    env = _env(store, tty, env_store)
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as cwd:
        _project(cwd, store)
        startup = _importtimes([sys.executable, "-X", "importtime", "-c", "pass"], cwd, env)
        for name, args in commands(trace_id[:8]).items():
            times = _importtimes([sys.executable, "-X", "importtime", script, *args], cwd, env)
            groups = dict.fromkeys(("interpreter start-up", *GROUPS, "other"), 0.0)
            for module, self_us in times.items():
                top = module.split(".")[0].lstrip("_")
                if module in startup:
                    group = "interpreter start-up"
                elif top in GROUPS:
                    group = top
                else:
                    group = "other"
                groups[group] += self_us / 1000
            out[name] = groups
    return out


def _importtimes(argv: list[str], cwd: str, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=env, check=True)
    times: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line[len("import time:") :].split("|")
        times[name.strip()] = times.get(name.strip(), 0.0) + float(self_us)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small store and 2 rounds: a smoke run")
    parser.add_argument("--spans", type=int, default=None, help="size of the big store (default 1,000,000)")
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "llmtap", help="where the big store is kept"
    )
    parser.add_argument("--store", type=Path, default=None, help="measure on this store instead")
    parser.add_argument("--rounds", type=int, default=None, help="runs of each command (default 15)")
    parser.add_argument("--tty", action="store_true", help="stdout a 120x26 pseudo-terminal instead of a pipe")
    parser.add_argument(
        "--env-store", action="store_true", help="LLMTAP_STORE=<store> instead of the default path in a project"
    )
    parser.add_argument("--importtime", action="store_true", help="also each command's import time by package")
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        metavar="SRC",
        help="also run each command with another checkout's src/ first on PYTHONPATH (e.g. the code before a change)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write every figure as JSON")
    args = parser.parse_args(argv)
    total = args.spans or (1_000 if args.quick else 1_000_000)
    rounds = args.rounds or (2 if args.quick else 15)
    store = args.store or big_store(args.cache, total)

    import sqlite3

    print(
        f"llmtap command benchmark: Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start"
    )
    spans = open_store(store, create=False).info().span_count
    print(
        f"\n{store} ({spans:,} spans), {rounds} rounds, stdout {'a 120x26 terminal' if args.tty else 'a pipe'}, "
        f"the store {'in LLMTAP_STORE' if args.env_store else 'at .llmtap/llmtap.db of a project'}: "
        "wall ms median / min, CPU ms median"
    )
    figures: dict[str, Any] = {"commands": bench(store, rounds, args.tty, args.env_store, args.before)}
    for name, row in figures["commands"].items():
        print(f"  {name:<52} {row['wall_ms_median']:>7.1f} {row['wall_ms_min']:>7.1f} {row['cpu_ms_median']:>7.1f}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.importtime:
        breakdown = import_breakdown(store, args.tty, args.env_store)
        figures["imports_ms"] = breakdown
        groups = list(next(iter(breakdown.values())))
        print("\nimport time by package, ms (one -X importtime run each; the modules' own times)")
        print(f"  {'':<52} " + " ".join(f"{group[:10]:>10}" for group in groups) + "      total")
        for name, row in breakdown.items():
            values = " ".join(f"{row[group]:>10.1f}" for group in groups)
            print(f"  {name:<52} {values} {sum(row.values()):>10.1f}")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
