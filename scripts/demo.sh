#!/usr/bin/env bash
# The demo: an instrumented OpenAI app against a local fake API (no keys, no network); prints the spans.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PYTHONPATH=. .venv/bin/python examples/demo.py "$@"
