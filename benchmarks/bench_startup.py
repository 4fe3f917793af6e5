"""Start-up cost of llmtap: `import llmtap; llmtap.instrument()` next to importing openai and anthropic.

    python benchmarks/bench_startup.py [--quick] [--runs N] [--json out.json] [--importtime]

Every measurement is a fresh interpreter (`python -c ...`, no `.pyc` writes disturbed: each module was
compiled by a warm-up run first). The configurations run interleaved, round by round, in a shuffled
order, so load from other processes hits them alike:

- `sdks`: `import openai, anthropic` — the baseline.
- `llmtap after`: the SDKs, then `import llmtap; llmtap.instrument()` (patching the imported SDKs).
- `llmtap before`: `import llmtap; llmtap.instrument()`, then the SDKs (patched as they are imported).

Inside each process the clock (`time.perf_counter`) runs from before the first import to after the last
statement. `llmtap after` also times its two parts apart, so its figure is paired within one process:
llmtap's milliseconds divided by the SDKs' milliseconds of the same process (the issue's target: at
most 3%). `llmtap before` cannot be split that way (the SDKs are patched while they import): its added
time is the median over rounds of its total minus the `sdks` total of the same round.

Each process starts with no `LLMTAP_*` / `OTEL_*` settings, in an empty directory (no pyproject.toml):
the default set-up of an application that configured nothing yet (the local store on); `--env NAME=VALUE` adds
a setting, e.g. `--env LLMTAP_STORE=off`. `--importtime` prints, from one extra
`python -X importtime` run of `llmtap after`, the modules llmtap's two lines import, slowest first.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence

# Each program marks points in time, on the wall clock and on the process's CPU clock (which other
# processes' load hardly moves), and prints them as JSON: {point: [wall s, cpu s]} since the start.
_PREAMBLE = (
    "import time\n"
    "_t0, _c0 = time.perf_counter(), time.process_time()\n"
    "_marks = {}\n"
    "def _mark(point):\n"
    "    _marks[point] = (time.perf_counter() - _t0, time.process_time() - _c0)\n"
)
_REPORT = "import json, sys; json.dump(_marks, sys.stdout)\n"

PROGRAMS = {
    "sdks": "import openai, anthropic\n_mark('sdks')\n",
    "llmtap after": (
        "import openai, anthropic\n"
        "_mark('sdks')\n"
        "import llmtap\n"
        "_mark('import')\n"
        "llmtap.instrument()\n"
        "_mark('instrument')\n"
    ),
    "llmtap before": "import llmtap\nllmtap.instrument()\n_mark('llmtap')\nimport openai, anthropic\n_mark('sdks')\n",
}


_SETTINGS: dict[str, str] = {}  # `--env NAME=VALUE`: given to every program (e.g. LLMTAP_STORE=off)


def _env() -> dict[str, str]:
    return {
        **{
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("LLMTAP_", "OTEL_", "PYTHONDONTWRITEBYTECODE"))
        },
        **_SETTINGS,
    }


def run_program(name: str, cwd: str, extra: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    source = _PREAMBLE + PROGRAMS[name] + _REPORT
    done = subprocess.run(
        [sys.executable, *extra, "-c", source], capture_output=True, text=True, cwd=cwd, env=_env(), check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{name}: exit {done.returncode}\n{done.stderr}")
    return done


Marks = dict[str, list[float]]  # point -> [wall ms, cpu ms] since the process's first statement


def measure(runs: int, cwd: str, seed: int, warm_up: bool = True) -> dict[str, list[Marks]]:
    """`runs` rounds; in each, every program once, in a shuffled order."""
    shuffle = random.Random(seed).shuffle
    results: dict[str, list[Marks]] = {name: [] for name in PROGRAMS}
    if warm_up:
        for name in PROGRAMS:  # .pyc files written, page cache filled
            run_program(name, cwd)
    for _ in range(runs):
        order = list(PROGRAMS)
        shuffle(order)
        for name in order:
            marks = json.loads(run_program(name, cwd).stdout)
            results[name].append({point: [value * 1000 for value in pair] for point, pair in marks.items()})
    return results


CLOCKS = ("wall", "cpu")


def summary(results: dict[str, list[Marks]], clock: str) -> dict[str, float]:
    """Medians in ms on one clock (`wall` or `cpu`), and the ratios against the SDK imports."""
    at = CLOCKS.index(clock)
    after, before, sdks = results["llmtap after"], results["llmtap before"], results["sdks"]
    median = statistics.median

    def llmtap_after(run: Marks) -> float:
        return run["instrument"][at] - run["sdks"][at]

    def added_before(pair: tuple[Marks, Marks]) -> float:
        run, bare = pair
        return run["sdks"][at] - bare["sdks"][at]

    pairs = list(zip(before, sdks, strict=True))
    return {
        "sdks_ms": median(run["sdks"][at] for run in sdks),
        "after_sdks_ms": median(run["sdks"][at] for run in after),
        "after_import_ms": median(run["import"][at] - run["sdks"][at] for run in after),
        "after_instrument_ms": median(run["instrument"][at] - run["import"][at] for run in after),
        "after_llmtap_ms": median(llmtap_after(run) for run in after),
        "after_ratio": median(llmtap_after(run) / run["sdks"][at] for run in after),
        "before_llmtap_ms": median(run["llmtap"][at] for run in before),
        "before_added_ms": median(added_before(pair) for pair in pairs),
        "before_ratio": median(added_before(pair) / pair[1]["sdks"][at] for pair in pairs),
    }


def importtime(cwd: str, top: int) -> list[tuple[str, int, int]]:
    """(module, self µs, cumulative µs) of the modules imported by llmtap's two lines, slowest first."""
    done = run_program("llmtap after", cwd, ["-X", "importtime"])
    rows: list[tuple[str, int, int]] = []
    seen_sdks = False
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, self_us, cumulative_us, module = (part.strip() for part in line.replace("import time:", "|").split("|"))
        if not self_us.isdigit():
            continue
        if not seen_sdks:
            seen_sdks = module == "anthropic"  # the last top-level import before llmtap's lines
            continue
        rows.append((module, int(self_us), int(cumulative_us)))
    return sorted(rows, key=lambda row: row[1], reverse=True)[:top]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round, no warm-up (CI smoke); figures meaningless")
    parser.add_argument("--runs", type=int, help="rounds (default 40, quick 1)")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON to PATH")
    parser.add_argument("--importtime", action="store_true", help="also print llmtap's slowest imports")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffled order")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for every program, e.g. LLMTAP_STORE=off",
    )
    args = parser.parse_args(argv)
    for setting in args.env:
        name, equals, value = setting.partition("=")
        if not equals:
            parser.error(f"--env {setting!r}: expected NAME=VALUE")
        _SETTINGS[name] = value
    runs = args.runs or (1 if args.quick else 40)

    with tempfile.TemporaryDirectory(prefix="llmtap-startup-") as cwd:
        results = measure(runs, cwd, args.seed, warm_up=not args.quick)
        slowest = importtime(cwd, 25) if args.importtime else []
    figures = {clock: summary(results, clock) for clock in CLOCKS}

    settings = " ".join(f"{name}={value}" for name, value in _SETTINGS.items()) or "none (local store on)"
    print(f"llmtap start-up cost (python {sys.version.split()[0]}, {runs} interleaved rounds, medians, ms)")
    print(f"settings: {settings}; load average {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print()
    print(f"{'':44} {'wall':>8} {'cpu':>8}")
    wall, cpu = figures["wall"], figures["cpu"]

    def line(label: str, key: str, percent: bool = False) -> None:
        if percent:
            print(f"{label:<44} {wall[key]:>8.1%} {cpu[key]:>8.1%}")
        else:
            print(f"{label:<44} {wall[key]:>8.1f} {cpu[key]:>8.1f}")

    line("import openai, anthropic", "sdks_ms")
    line("SDKs first, then: import llmtap", "after_import_ms")
    line("                  llmtap.instrument()", "after_instrument_ms")
    line("                  both", "after_llmtap_ms")
    line("                  both / the SDK imports", "after_ratio", percent=True)
    line("llmtap first: import llmtap; instrument()", "before_llmtap_ms")
    line("              added to the whole", "before_added_ms")
    line("              added / the SDK imports", "before_ratio", percent=True)
    print()
    print("(target: both / the SDK imports <= 3%; each ratio is paired within a process or a round)")
    if slowest:
        print()
        print("slowest imports of `import llmtap; llmtap.instrument()` after the SDKs (self µs, cumulative µs):")
        for module, self_us, cumulative_us in slowest:
            print(f"  {self_us:8,} {cumulative_us:9,}  {module}")
    if args.json:
        output = {"runs": runs, "quick": args.quick, **figures, "raw": results, "importtime": slowest}
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(output, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
