#!/usr/bin/env bash
# Creates .venv (once) and installs llmtap, its plugins and the dev tools into it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.llmtap-installed
inputs=$(cat pyproject.toml instrumentors/*/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$inputs" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  plugins=()
  for dir in instrumentors/*/; do plugins+=(-e "$dir"); done
  .venv/bin/python -m pip install --quiet -e ".[dev]" "${plugins[@]}"
  echo "$inputs" > "$stamp"
fi
