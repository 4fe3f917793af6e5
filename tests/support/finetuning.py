"""The published shapes of OpenAI's fine-tuning rows, for checking exported JSON lines one by one."""

from __future__ import annotations

import json
from typing import Any

from openai.types.chat import ChatCompletionFunctionToolParam, ChatCompletionMessageParam
from pydantic import TypeAdapter

MESSAGE = TypeAdapter(ChatCompletionMessageParam)
TOOL = TypeAdapter(ChatCompletionFunctionToolParam)


def check_chat_row(line: dict[str, Any]) -> None:
    """OpenAI's chat fine-tuning row: `messages` (chat messages; assistant tool calls with JSON-string
    arguments; tool results with their call id), optional `tools`/`parallel_tool_calls`; our `llmtap`."""
    assert set(line) <= {"messages", "tools", "parallel_tool_calls", "llmtap"}
    for message in line["messages"]:
        MESSAGE.validate_python(message)
        assert message["role"] in ("system", "user", "assistant", "tool")
        for call in message.get("tool_calls", ()):
            assert set(call) == {"id", "type", "function"} and call["type"] == "function"
            json.loads(call["function"]["arguments"])
    assert line["messages"][-1]["role"] == "assistant"
    check_tools(line.get("tools", []))


def check_tools(tools: list[dict[str, Any]]) -> None:
    """A row's `tools`: function tools as the chat API takes them."""
    for tool in tools:
        TOOL.validate_python(tool)
        assert set(tool) == {"type", "function"} and set(tool["function"]) <= {"name", "description", "parameters"}


def check_preference_row(line: dict[str, Any]) -> None:
    """OpenAI's DPO row: `input` {messages, tools?, parallel_tool_calls?}, one assistant message in each of
    `preferred_output` and `non_preferred_output`."""
    assert set(line) <= {"input", "preferred_output", "non_preferred_output", "llmtap"}
    assert set(line["input"]) <= {"messages", "tools", "parallel_tool_calls"}
    check_tools(line["input"].get("tools", []))
    for message in line["input"]["messages"]:
        MESSAGE.validate_python(message)
    for key in ("preferred_output", "non_preferred_output"):
        assert len(line[key]) == 1 and line[key][0]["role"] == "assistant"
        MESSAGE.validate_python(line[key][0])
