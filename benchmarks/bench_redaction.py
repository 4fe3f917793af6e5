"""Cost of content redaction per KB of captured content (issue 8 §3).

For each content shape, times `llmtap.content.content_attributes` (what every span's content goes
through: redaction, bounds, JSON) with the default redaction policy and with other policies, against
the same content serialised without redaction (`json.dumps` as llmtap calls it, the cost before
redaction existed), in alternating blocks; prints the median µs per KB of JSON and the ratio.

    .venv/bin/python benchmarks/bench_redaction.py            # full run, ~1 minute
    .venv/bin/python benchmarks/bench_redaction.py --quick    # a few iterations (smoke; figures not meaningful)

Shapes: a chat history of 12 messages with tool calls (~7 KB, clean: the common case, one cheap check
of the JSON text), the same with one API key in a message (the walk runs and rewrites), and a 64 KB
RAG-sized history. Policies: `default` (the `credentials` set), `off` (`LLMTAP_REDACT=off`: known client
credentials only), `all sets` (credentials, email, phone, card: no cheap pre-check, every string walked).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from llmtap import redaction
from llmtap.content import content_attributes, dumps

WORDS = (
    "the model answer question context document retrieval python function value user assistant please "
    "summarise following text about weather today tomorrow invoice shipping order refund account"
).split()
KEY = "sk-proj-Tq3vR8wZ1xY5nB7mK2pL9sD4fG6hJ0aQ"


def _prose(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def history(turns: int, words: int, seed: int = 7) -> list[dict[str, Any]]:
    """A chat history in the semconv message shape: a system prompt, user turns, assistant turns with a tool call."""
    rng = random.Random(seed)
    messages: list[dict[str, Any]] = [{"role": "system", "parts": [{"type": "text", "content": _prose(rng, 150)}]}]
    for index in range(turns):
        messages.append({"role": "user", "parts": [{"type": "text", "content": _prose(rng, words)}]})
        messages.append(
            {
                "role": "assistant",
                "parts": [
                    {"type": "text", "content": _prose(rng, words)},
                    {
                        "type": "tool_call",
                        "id": f"call_{index:04d}",
                        "name": "get_weather",
                        "arguments": {"city": "Paris", "unit": "celsius"},
                    },
                ],
            }
        )
    return messages


def with_key(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    copy = [dict(message) for message in messages]
    copy[3] = {"role": "user", "parts": [{"type": "text", "content": f"my key is {KEY}, please use it"}]}
    return copy


def _per_call(function: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


def measure(baseline: Callable[[], Any], measured: Callable[[], Any], calls: int, blocks: int) -> tuple[float, float]:
    """Median seconds per call of each, over alternating blocks."""
    base, other = [], []
    for _ in range(blocks):
        base.append(_per_call(baseline, calls))
        other.append(_per_call(measured, calls))
    return statistics.median(base), statistics.median(other)


POLICIES = {
    "default": redaction.Redactor(),
    "off": redaction.Redactor(()),
    "all sets": redaction.Redactor(tuple(redaction.SETS)),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few iterations: a smoke test, not a measurement")
    options = parser.parse_args(argv)
    calls, blocks = (5, 2) if options.quick else (200, 15)
    clean = history(6, 50)
    shapes = {
        "chat history, clean": clean,
        "chat history, one API key": with_key(clean),
        "RAG-sized history, clean": history(50, 120),
    }
    print("content redaction: µs per KB of content JSON; ratio against the same content serialised without redaction")
    print(f"{'content':<28} {'KB':>6} {'policy':<9} {'json µs/KB':>10} {'redacted µs/KB':>14} {'ratio':>6}")
    try:
        for shape, value in shapes.items():
            kilobytes = len(dumps(value).encode()) / 1024
            for policy, redactor in POLICIES.items():
                redaction.activate(redactor)
                out: dict[str, Any] = {}
                content_attributes("gen_ai.input.messages", value, 16384, out)
                base, redacted = measure(
                    lambda value=value: dumps(value),
                    lambda value=value, out=out: content_attributes("gen_ai.input.messages", value, 16384, out),
                    calls,
                    blocks,
                )
                print(
                    f"{shape:<28} {kilobytes:>6.1f} {policy:<9} {base * 1e6 / kilobytes:>10.2f} "
                    f"{redacted * 1e6 / kilobytes:>14.2f} {redacted / base:>6.2f}"
                )
    finally:
        redaction.activate(None)


if __name__ == "__main__":
    main()
