#!/usr/bin/env bash
# The main job: `llmtap demo` — a small support-assistant app (LangChain RAG, OpenAI tool calls, Claude) played
# offline against recorded API responses (no keys, no network), recorded by llmtap into .llmtap/demo.db, then the
# traces, one trace in full, stats by prompt version, the errored and thumbs-down traces routed to a review queue,
# a scripted reviewer working it and the reviewed traces exported as chat JSONL. Arguments go to `llmtap demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/llmtap demo "$@"
