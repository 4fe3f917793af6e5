"""Cost per span of label stamping with 0, 5 and 20 labels (run by hand: python benchmarks/bench_labels.py).

Measures starting and ending a span on an SDK TracerProvider with no exporter, with and without
llmtap's label processor, the labels set by `llmtap.tags()` (no schema, warn mode).
"""

from __future__ import annotations

import time

from opentelemetry.sdk.trace import TracerProvider

import llmtap

SPANS = 20000
ROUNDS = 5


def per_span_us(tracer, count: int = SPANS) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(count):
            tracer.start_span("s").end()
        best = min(best, time.perf_counter() - start)
    return best / count * 1e6


def main() -> None:
    baseline = per_span_us(TracerProvider().get_tracer("bench"))
    provider = TracerProvider()
    llmtap.instrument(providers=[], tracer_provider=provider, config={})
    tracer = provider.get_tracer("bench")
    print(f"span start+end without llmtap: {baseline:.2f} us")
    for size in (0, 5, 20):
        labels = {f"label_{index}": f"value-{index}" for index in range(size)}
        with llmtap.tags(**labels):
            cost = per_span_us(tracer)
        print(f"{size:>2} labels: {cost:.2f} us per span (+{cost - baseline:.2f} us for stamping)")
    llmtap.uninstrument()


if __name__ == "__main__":
    main()
