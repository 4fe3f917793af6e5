from __future__ import annotations

import json

from llmtap.content import content_attributes


def test_short_content_is_written_as_compact_json_without_a_truncation_count() -> None:
    out: dict[str, object] = {}
    content_attributes(
        "gen_ai.input.messages", [{"role": "user", "parts": [{"type": "text", "content": "hé"}]}], 100, out
    )
    assert out == {"gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"hé"}]}]'}


def test_each_long_string_is_cut_and_the_cut_is_counted_and_json_stays_valid() -> None:
    value = [
        {"role": "user", "parts": [{"type": "text", "content": "a" * 30}, {"type": "text", "content": "b" * 12}]},
        {"role": "user", "parts": [{"type": "blob", "modality": "image", "content": "c" * 25}]},
    ]
    out: dict[str, object] = {}
    content_attributes("gen_ai.input.messages", value, 10, out)
    assert json.loads(out["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "a" * 10}, {"type": "text", "content": "b" * 10}]},
        {"role": "user", "parts": [{"type": "blob", "modality": "image", "content": "c" * 10}]},
    ]
    assert out["llmtap.truncated.gen_ai.input.messages"] == 20 + 2 + 15
    assert value[0]["parts"][0]["content"] == "a" * 30  # the caller's data is never modified


def test_the_message_shape_is_never_cut_only_its_content() -> None:
    value = [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_Qx7bW2n", "name": "get_current_weather", "arguments": "x" * 40}
            ],
            "finish_reason": "tool_call",
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_Qx7bW2n", "response": "sunny" * 5}]},
    ]
    out: dict[str, object] = {}
    content_attributes("gen_ai.input.messages", value, 12, out)
    assert json.loads(out["gen_ai.input.messages"]) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_Qx7bW2n", "name": "get_current_weather", "arguments": "x" * 12}
            ],
            "finish_reason": "tool_call",
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_Qx7bW2n", "response": "sunnysunnysu"}]},
    ]
    assert out["llmtap.truncated.gen_ai.input.messages"] == 28 + 13


def test_zero_means_no_limit() -> None:
    out: dict[str, object] = {}
    content_attributes("gen_ai.output.messages", [{"content": "x" * 100_000}], 0, out)
    assert out == {"gen_ai.output.messages": json.dumps([{"content": "x" * 100_000}], separators=(",", ":"))}
