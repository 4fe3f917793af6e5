"""Where llmtap's added time per call goes, in situ: the same call with parts of the emitter switched off.

    python benchmarks/bench_breakdown.py [--workload chat] [--rounds 12] [--calls 40]

An ablation, for reading the peers table (bench_peers.py): the OpenAI scenarios of bench_openai.py run in
interleaved blocks (shuffled order each round, CPU clock, paired medians against the bare SDK) as

- `llmtap`: instrumented, everything on;
- `no metrics`: the metric points not recorded (`Emitter._record_metrics` and the cost counter's point in
  `Emitter._record_cost` no-ops; the call is still priced);
- `no content JSON`: the captured content not serialised (`content_attributes` a no-op);
- `no cost`: the call not priced (`Pricer.price` returns None: no cost attributes, no cost counter point);
- `no span`: a non-recording span instead of an SDK span (no span start/attributes/end/processors, hence
  no content JSON either): what is left is llmtap's own plumbing plus the metric points;
- `plumbing only`: no span and no metric points: llmtap's own work (routing the request, building the
  record, context, `span_of` bookkeeping, reading the response, pricing it).

The differences between rows are what each part costs next to a real SDK call (cold caches included),
which is how the OTel SDK's share of llmtap's added time is told apart from llmtap's own. Only a
measurement aid: it replaces llmtap internals, so never import it elsewhere.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from opentelemetry.trace import INVALID_SPAN

import bench_openai
import harness
from llmtap import emitter
from llmtap.cost.pricer import Pricer

CONFIGS = ("bare", "llmtap", "no metrics", "no content JSON", "no cost", "no span", "plumbing only")


def _switch(config: str) -> Callable[[], None]:
    """Switch parts off for `config`; returns the function switching them back on."""
    saved = (
        emitter.Emitter._record_metrics,
        emitter.Emitter._record_cost,
        emitter.content_attributes,
        emitter.Emitter.start,
        Pricer.price,
    )
    if config == "no cost":
        Pricer.price = lambda *args, **kwargs: None  # type: ignore[method-assign]
    if config in ("no metrics", "plumbing only"):
        emitter.Emitter._record_metrics = lambda *args, **kwargs: None  # type: ignore[method-assign]
        emitter.Emitter._record_cost = lambda *args, **kwargs: None  # type: ignore[method-assign]
    if config == "no content JSON":
        emitter.content_attributes = lambda *args, **kwargs: None
    if config in ("no span", "plumbing only"):
        emitter.Emitter.start = lambda *args, **kwargs: INVALID_SPAN  # type: ignore[method-assign]

    def restore() -> None:
        (
            emitter.Emitter._record_metrics,
            emitter.Emitter._record_cost,
            emitter.content_attributes,
            emitter.Emitter.start,
            Pricer.price,
        ) = saved

    return restore


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", default="chat", help="a bench_openai.py scenario (default chat)")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--calls", type=int, default=40, help="calls per block")
    args = parser.parse_args(argv)
    tel = harness.pipeline(batch=False, provider="openai")
    run = {scenario.name: scenario.run for scenario in bench_openai.scenarios()}[args.workload]

    def block(config: str, n: int) -> float:
        restore = _switch(config)
        if config != "bare":
            tel.instrument()
        try:
            start = time.process_time_ns()
            run(n)
            return (time.process_time_ns() - start) / n / 1000
        finally:
            if config != "bare":
                tel.uninstrument()
            restore()

    warnings: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = warnings.append  # type: ignore[method-assign]
    logging.getLogger("llmtap").addHandler(handler)
    for config in CONFIGS:  # warm-up
        block(config, 5)
    if warnings:  # a switched-off part no longer fits the emitter: llmtap caught an error, the figures lie
        raise SystemExit(f"llmtap reported: {warnings[0].getMessage()}")
    figures: dict[str, list[float]] = {config: [] for config in CONFIGS}
    for _ in range(args.rounds):
        order = list(CONFIGS)
        random.shuffle(order)
        for config in order:
            figures[config].append(block(config, args.calls))
    bare = figures["bare"]
    print(f"{args.workload}: CPU µs per call, {args.rounds} interleaved rounds of {args.calls} calls, paired medians")
    print(f"  {'bare SDK':<18} {statistics.median(bare):9.1f}")
    for config in CONFIGS[1:]:
        added = statistics.median(b - a for a, b in zip(bare, figures[config], strict=True))
        print(f"  {config:<18} {added:+9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
