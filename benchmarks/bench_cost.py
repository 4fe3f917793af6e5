"""Cost per priced span: what `llmtap.cost` adds to the end of a model call, against the call itself.

    .venv/bin/python benchmarks/bench_cost.py            # ~20 s
    .venv/bin/python benchmarks/bench_cost.py --quick    # smoke (figures not meaningful)

Rows:
- `uninstrumented chat call`: one real openai `chat.completions.create` over `httpx2.MockTransport`
  (no sockets), the yardstick the other rows are divided by.
- `price, genai-prices model`: `Pricer.price` of a chat call with cached input (steady state: the model's
  schedule resolved and cached), `..., tiered (Anthropic long context)`, `..., config override`, and
  `..., unknown model` (the cached miss every later call of an unpriced model pays).
- `first priced call in a process`: a fresh interpreter's first `Pricer.price`, which loads the
  genai-prices data and resolves the model (once per process, then once per model).
Each row is the median over blocks of the per-call time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import openai
from harness import http_client, wire
from llmtap.cost.pricer import Pricer
from llmtap.record import LLMCall, Usage


def _median_us(run: Callable[[], object], calls: int, blocks: int) -> float:
    samples = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


def _call(provider: str, model: str, **usage: int) -> LLMCall:
    return LLMCall(provider=provider, operation="chat", request_model=model, response_model=model, usage=Usage(**usage))


_FIRST_CALL = """
import time
from llmtap.cost.pricer import Pricer
from llmtap.record import LLMCall, Usage
call = LLMCall(provider="openai", operation="chat", request_model="gpt-4o-mini", usage=Usage(1000, 200))
start = time.perf_counter()
assert Pricer().price(call) is not None
print((time.perf_counter() - start) * 1e3)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    calls, blocks, fresh = (200, 3, 1) if args.quick else (5000, 9, 5)

    builders = wire("openai_wire")
    body = json.dumps(builders.chat_completion("Paris is the capital of France.")).encode()
    client = openai.OpenAI(
        api_key="sk-bench", max_retries=0, http_client=http_client(body, {"content-type": "application/json"})
    )
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    sdk_us = _median_us(
        lambda: client.chat.completions.create(model="gpt-4o-mini", messages=messages), calls // 10, blocks
    )

    pricer = Pricer.from_settings_table({"openai/acme-private": {"input": 0.3, "output": 1.2}})
    rows = {
        "price, genai-prices model": _call(
            "openai", "gpt-4o-mini-2024-07-18", input_tokens=1200, output_tokens=300, cache_read_input_tokens=1024
        ),
        "price, tiered (Anthropic long context)": _call(
            "anthropic",
            "claude-sonnet-4-5-20250929",
            input_tokens=230_000,
            output_tokens=900,
            cache_read_input_tokens=20_000,
            cache_creation_input_tokens=3_000,
            cache_creation_1h_input_tokens=1_000,
        ),
        "price, config override": _call("openai", "acme-private", input_tokens=1200, output_tokens=300),
        "price, unknown model": _call("openai", "acme-unlisted", input_tokens=1200, output_tokens=300),
    }
    print(f"{'row':45} {'µs':>10} {'÷ SDK call':>11}")
    print(f"{'uninstrumented chat call':45} {sdk_us:10.2f} {1.0:10.3f}x")
    for name, call in rows.items():
        pricer.price(call)  # resolve and cache the model's schedule (and warn once for the unknown one)
        us = _median_us(lambda call=call: pricer.price(call), calls, blocks)
        print(f"{name:45} {us:10.2f} {us / sdk_us:10.3f}x")
    firsts = [
        float(subprocess.run([sys.executable, "-c", _FIRST_CALL], capture_output=True, text=True, check=True).stdout)
        for _ in range(fresh)
    ]
    print(f"{'first priced call in a process (ms)':45} {statistics.median(firsts):10.1f}")


if __name__ == "__main__":
    main()
