#!/usr/bin/env bash
# The demo: OpenAI, Anthropic and LangChain apps, labels, the manual API and decorators, instrumented by llmtap
# against a local fake of the APIs (no keys, no network); prints the exported spans and metrics (examples/demo.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PYTHONPATH=. .venv/bin/python examples/demo.py "$@"
