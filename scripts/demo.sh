#!/usr/bin/env bash
# The main job: `llmtap demo` — a small support-assistant app (LangChain RAG, OpenAI tool calls, Claude) played
# offline against recorded API responses (no keys, no network), recorded by llmtap into .llmtap/demo.db, then the
# traces, one trace in full and stats by prompt version. Arguments go to `llmtap demo` (e.g. --store PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/llmtap demo "$@"
