#!/usr/bin/env bash
# The test command: sets up .venv if needed, checks lint, runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src instrumentors tests benchmarks examples
.venv/bin/python -m pytest "$@"
