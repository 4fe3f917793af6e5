"""Per-call cost of llmtap next to its peers, measured in one run: the added µs per call of each.

    python benchmarks/bench_peers.py [--quick] [--rounds N] [--peers a,b] [--json out.json]

Configurations, each a long-lived worker process (benchmarks/peers/worker.py) with the same workloads and
the same telemetry pipeline (SimpleSpanProcessor, spans dropped by the exporter, an in-memory metric
reader):

- `bare`: the SDKs uninstrumented, in this venv (the baseline);
- `llmtap`: `llmtap.instrument()`, in this venv;
- one per peer, each in its own venv from the pinned sets in benchmarks/peers/ (created on first use and
  cached under ~/.cache/llmtap/bench-peers/, see benchmarks/peers/venvs.py): `otel-official`
  (opentelemetry-instrumentation-openai-v2 + genai-anthropic 1.1b1), `otel-genai` (genai-openai /
  genai-anthropic 1.3b0), `openinference`, `openllmetry` (Traceloop). The official sets get
  `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental` and
  `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=span_only`, so that every configuration records
  the messages on its spans (llmtap's default; OpenInference's and OpenLLMetry's too).

Workloads: chat, a 50-chunk chat stream, chat with two tool calls, async chat (openai), an Anthropic
message and a 50-delta Anthropic stream — the scenarios of bench_openai.py / bench_anthropic.py, over the
same in-process transport. Every venv must hold the same SDK versions (checked at start).

How it measures: each block is timed inside its worker on the process's CPU clock (`--clock wall` for
wall time): the workloads are CPU-bound (no network), and on a shared machine other processes' load
stretches wall time far more than CPU time. In each round, for each workload, every configuration runs
one block of calls, in a freshly shuffled order; the figure of a block is its mean µs per call. A
configuration's added time on a workload is the median over rounds of (its block - the `bare` block of
the same round): paired, so load that moves a whole round moves both. `llmtap / fastest` divides
llmtap's added time by the smallest added time among the peers that instrument that workload (a peer
whose supported range excludes the installed SDK exports nothing there and is left out, shown as `-`).
The issue's target: at most 0.6x.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "peers"))

import venvs  # noqa: E402

WORKER = HERE / "peers" / "worker.py"
WORKLOADS = {  # workload -> calls per block (about 20-40 ms of work on a laptop)
    "chat": 40,
    "chat stream 50 chunks": 10,
    "chat, two tool calls": 40,
    "async chat": 40,
    "anthropic message": 40,
    "anthropic stream 50 deltas": 20,
}
OFFICIAL_ENV = {
    "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "span_only",
}
PEER_ENV = {"otel-official": OFFICIAL_ENV, "otel-genai": OFFICIAL_ENV}


class Worker:
    """A configuration's worker process, spoken to one JSON line at a time."""

    def __init__(self, name: str, python: str, mode: str, env: dict[str, str]) -> None:
        self.name = name
        self.process = subprocess.Popen(
            [python, str(WORKER), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=HERE,
        )
        self.ready = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.name} worker stopped (exit {self.process.wait()})")
        return json.loads(line)

    def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        try:
            self.ask({"quit": True})
        except (BrokenPipeError, SystemExit, ValueError):
            pass
        self.process.wait(timeout=30)


def _env(extra: dict[str, str]) -> dict[str, str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("LLMTAP_", "OTEL_", "TRACELOOP_"))}
    clean.pop("PYTHONPATH", None)
    return {**clean, **extra}


def start_workers(peers: Sequence[str]) -> dict[str, Worker]:
    workers = {
        "bare": Worker("bare", sys.executable, "bare", _env({})),
        "llmtap": Worker("llmtap", sys.executable, "llmtap", _env({})),
    }
    for peer in peers:
        python = venvs.ensure(peer)
        workers[peer] = Worker(peer, str(python), "peer", _env(PEER_ENV.get(peer, {})))
    versions = {name: worker.ready["ready"] for name, worker in workers.items()}
    if len({json.dumps(value, sort_keys=True) for value in versions.values()}) != 1:
        raise SystemExit(f"the venvs hold different SDK versions: {json.dumps(versions, indent=2)}")
    return workers


def measure(
    workers: dict[str, Worker], rounds: int, calls: dict[str, int], seed: int, clock: str
) -> dict[str, dict[str, list[float]]]:
    """µs per call of every block on `clock` ("us": wall, "cpu_us": CPU): [workload][configuration] -> one
    figure per round."""
    shuffle = random.Random(seed).shuffle
    for worker in workers.values():  # warm-up: first-call caches, lazy imports, patching on first use
        for workload in calls:
            worker.ask({"run": workload, "n": max(3, calls[workload] // 4)})
    blocks: dict[str, dict[str, list[float]]] = {workload: {name: [] for name in workers} for workload in calls}
    for _ in range(rounds):
        for workload, n in calls.items():
            order = list(workers)
            shuffle(order)
            for name in order:
                blocks[workload][name].append(workers[name].ask({"run": workload, "n": n})[clock])
    return blocks


def probes(workers: dict[str, Worker]) -> dict[str, dict[str, Any]]:
    """[workload][configuration] -> what one call exported (spans with their attribute counts, metrics)."""
    return {workload: {name: w.ask({"probe": workload}) for name, w in workers.items()} for workload in WORKLOADS}


def summarise(blocks: dict[str, dict[str, list[float]]], seen: dict[str, dict[str, Any]]) -> dict[str, Any]:
    rows = {}
    for workload, by_config in blocks.items():
        bare = by_config["bare"]
        row: dict[str, Any] = {"bare_us": statistics.median(bare), "added_us": {}}
        for name, figures in by_config.items():
            if name == "bare" or not seen[workload][name]["spans"]:
                continue
            row["added_us"][name] = statistics.median(b - a for a, b in zip(bare, figures, strict=True))
        peers = {name: added for name, added in row["added_us"].items() if name != "llmtap"}
        if peers:
            fastest = min(peers, key=lambda name: peers[name])
            row["fastest_peer"] = fastest
            row["llmtap_over_fastest"] = row["added_us"]["llmtap"] / peers[fastest] if peers[fastest] > 0 else None
        rows[workload] = row
    return rows


def print_table(rows: dict[str, Any], configs: Sequence[str]) -> None:
    names = [name for name in configs if name != "bare"]
    head = f"{'workload':<28} {'bare µs':>9}" + "".join(f" {name:>13}" for name in names) + "  llmtap/fastest"
    print(head)
    print("-" * len(head))
    for workload, row in rows.items():
        cells = "".join(
            f" {format(row['added_us'][name], '+,.1f') if name in row['added_us'] else '-':>13}" for name in names
        )
        ratio = row.get("llmtap_over_fastest")
        versus = f"{ratio:.2f}x ({row['fastest_peer']})" if ratio is not None else "-"
        print(f"{workload:<28} {row['bare_us']:>9,.1f}{cells}  {versus}")


def print_probes(seen: dict[str, dict[str, Any]], configs: Sequence[str]) -> None:
    print("what one call exports (spans: name/attribute count; messages on the span; metric instruments so far):")
    for workload, by_config in seen.items():
        print(f"  {workload}")
        for name in configs:
            if name == "bare":
                continue
            probe = by_config[name]
            spans = ", ".join(f"{span}/{count}" for span, count in probe["spans"]) or "none"
            content = "yes" if probe["content"] else "no"
            print(f"    {name:<14} {spans:<34} messages {content:<3}  {len(probe['metrics'])}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few rounds and calls (smoke); figures not meaningful")
    parser.add_argument("--rounds", type=int, help="rounds (default 30, quick 2)")
    parser.add_argument("--peers", default=",".join(venvs.PEERS), help="comma-separated peers ('' for none)")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON to PATH")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shuffled order")
    parser.add_argument(
        "--clock", choices=("cpu", "wall"), default="cpu", help="the worker's CPU clock (default) or wall time"
    )
    args = parser.parse_args(argv)
    peers = [name for name in args.peers.split(",") if name]
    unknown = sorted(set(peers) - set(venvs.PEERS))
    if unknown:
        parser.error(f"unknown peer(s) {unknown}; expected some of {', '.join(venvs.PEERS)}")
    rounds = args.rounds or (2 if args.quick else 30)
    calls = {workload: 2 if args.quick else n for workload, n in WORKLOADS.items()}

    workers = start_workers(peers)
    try:
        seen = probes(workers)
        blocks = measure(workers, rounds, calls, args.seed, "cpu_us" if args.clock == "cpu" else "us")
    finally:
        for worker in workers.values():
            worker.close()
    rows = summarise(blocks, seen)
    versions = workers["bare"].ready["ready"]
    print(
        f"added µs per call, llmtap and its peers (python {sys.version.split()[0]}, "
        + ", ".join(f"{name} {version}" for name, version in versions.items())
        + f"; {rounds} rounds, paired medians, {args.clock} clock)"
    )
    print()
    print_table(rows, list(workers))
    print()
    print_probes(seen, list(workers))
    for name, worker in workers.items():
        if name not in ("bare", "llmtap"):
            print(f"  {name}: " + "; ".join(worker.ready["instrumented"]))
    if args.json:
        output = {"rounds": rounds, "quick": args.quick, "clock": args.clock, "calls": calls, "versions": versions}
        output["rows"] = rows
        output.update({"probes": seen, "blocks": blocks, "command": " ".join(["python", *sys.argv])})
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(output, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
