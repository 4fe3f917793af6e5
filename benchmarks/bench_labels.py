"""Cost per span of label stamping with 0, 5 and 20 labels, as a ratio to a plain span in the same run.

    python benchmarks/bench_labels.py            # about 20 s on 2 cores
    python benchmarks/bench_labels.py --quick    # a smoke run, figures meaningless

Measures starting and ending a span on an SDK TracerProvider with no exporter: "plain" has no span
processor; the others have llmtap's label processor, the labels set by `llmtap.tags()` (no schema).
Robust against noise: each repeat runs every variant once, in a rotated order (so drift in machine
speed hits all variants alike); a variant's figure in a repeat is the median of its batches; the result
is the lowest of those medians over the repeats. Timing runs with the garbage collector off, as timeit.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer

import llmtap

LABEL_COUNTS = (0, 5, 20)
Variant = tuple[str, Tracer, Callable[[], AbstractContextManager[object]]]


def batch_us(tracer: Tracer, spans: int, scope: Callable[[], AbstractContextManager[object]]) -> float:
    """Microseconds per span start+end, over one batch of `spans`, inside `scope()`."""
    gc.collect()
    gc.disable()
    try:
        with scope():
            start = time.perf_counter()
            for _ in range(spans):
                tracer.start_span("s").end()
            elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed / spans * 1e6


def measure(spans: int, batches: int, repeats: int) -> dict[str, float]:
    """Per variant: min over repeats of the median batch time, µs per span."""
    plain = TracerProvider().get_tracer("bench")
    provider = TracerProvider()
    llmtap.instrument(providers=[], tracer_provider=provider, meter_provider=MeterProvider(), config={})
    try:
        tracer = provider.get_tracer("bench")
        variants: list[Variant] = [("plain", plain, nullcontext)]
        for size in LABEL_COUNTS:
            labels = {f"label_{index}": f"value-{index}" for index in range(size)}
            variants.append((f"{size} labels", tracer, lambda labels=labels: llmtap.tags(**labels)))
        for _, variant_tracer, scope in variants:  # warm-up
            batch_us(variant_tracer, spans, scope)
        best = {name: float("inf") for name, _, _ in variants}
        for repeat in range(repeats):
            shift = repeat % len(variants)
            for name, variant_tracer, scope in variants[shift:] + variants[:shift]:
                median = statistics.median(batch_us(variant_tracer, spans, scope) for _ in range(batches))
                best[name] = min(best[name], median)
        return best
    finally:
        llmtap.uninstrument()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few spans, figures meaningless")
    parser.add_argument("--spans", type=int, default=5000, help="spans per batch (default 5000)")
    parser.add_argument("--batches", type=int, default=5, help="batches per variant per repeat (default 5)")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repeats (default 7)")
    args = parser.parse_args()
    spans, batches, repeats = (200, 3, 2) if args.quick else (args.spans, args.batches, args.repeats)
    result = measure(spans, batches, repeats)
    plain = result["plain"]
    print(f"{spans} spans x {batches} batches x {repeats} repeats; min over repeats of the median batch")
    print(f"{'variant':<10} {'µs/span':>8} {'ratio':>6} {'added µs':>9}")
    for name, value in result.items():
        print(f"{name:<10} {value:>8.2f} {value / plain:>6.2f} {value - plain:>9.2f}")


if __name__ == "__main__":
    main()
