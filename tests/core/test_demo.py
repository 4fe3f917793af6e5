"""`examples/demo.py` (the tour of every capture feature): offline, quiet on stderr, every part's spans printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Each part's section of stdout must show these (span names exactly as exported, and key attributes).
EXPECTED = {
    1: [
        "● chat gpt-4o-mini   [CLIENT, UNSET]",
        "tool_call get_weather",
        "llmtap.stream: outcome=completed",
        "llmtap.stream: outcome=abandoned",
        "● chat gpt-4.1-mini   [CLIENT, UNSET]",
        "● chat gpt-unknown   [CLIENT, ERROR",
        "error: type=NotFoundError",
    ],
    2: [
        "● chat claude-sonnet-5-5   [CLIENT, UNSET]",
        'gen_ai.system_instructions: "You are terse."',
        "app> messages.stream(): text_stream = 'Let me check the weather.'",
        'tool_call get_weather({"city": "Oslo"})',
        "gen_ai.usage: cache_creation.input_tokens=200 cache_read.input_tokens=1800 input_tokens=2042",
        "reasoning ",
    ],
    3: [
        "● invoke_workflow rag   [INTERNAL, UNSET]",
        "● retrieval KeywordRetriever   [INTERNAL, UNSET]",
        "● chat gpt-4o-mini   [CLIENT, UNSET]",
        "openai gpt-4o-mini input: +1 recording",
        "openai gpt-4o-mini output: +1 recording",
    ],
    4: [
        "● POST /assistant   [INTERNAL, UNSET]",
        "llmtap.tag: deployment=demo feature_flag=new-rag session_id=s-7 user_id=u-42",
        "llmtap.tag: deployment=demo feature_flag=old-rag session_id=s-7 user_id=u-42",
        "llmtap.tag: deployment=demo feature_flag=beta user_id=u-43",
        "[WARNING llmtap] llmtap: label feature_flag='beta': expected one of new-rag, old-rag",
        "current_tags() = {'deployment': 'demo'}",
    ],
    5: [
        "● chat gpt-4   [CLIENT, UNSET]",
        "llmtap.tag: app_feature=qa deployment=demo human_feedback=good user_id=u1",
        "\nSpanRef(trace_id='",  # print(span.ref)
        "● invoke_workflow trip_advice   [INTERNAL, UNSET]",
        "● retrieval search_notes   [INTERNAL, UNSET]",
        "● execute_tool get_weather   [INTERNAL, UNSET]",
    ],
    6: [
        "app> llmtap.span_of(reply) = SpanRef(trace_id='",
        "app> that is the exported span 'chat gpt-4o-mini'",
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.duration",
        "gen_ai.client.operation.time_to_first_chunk",
    ],
}


def test_demo_runs_offline_and_shows_every_part() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LLMTAP_", "OTEL_", "ANTHROPIC_"))}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "examples/demo.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr
    # llmtap's warnings are printed inline on stdout by the demo; nothing else may reach stderr.
    unexpected = [line for line in result.stderr.splitlines() if "feature_flag='beta'" not in line]
    assert unexpected == []

    sections = re.split(r"^PART (\d) · ", result.stdout, flags=re.MULTILINE)
    parts = {int(number): text for number, text in zip(sections[1::2], sections[2::2], strict=True)}
    assert sorted(parts) == [1, 2, 3, 4, 5, 6]
    for number, needles in EXPECTED.items():
        missing = [needle for needle in needles if needle not in parts[number]]
        assert missing == [], f"part {number} lacks {missing}:\n{parts[number]}"
    # One API call, one model span: the OpenAI SDK's, in the LangChain model run's place, with its facts.
    assert parts[3].count("● chat gpt-4o-mini ") == 1
    assert "model_class=ChatOpenAI" in parts[3]
