"""Request-parameter helpers shared by the OpenAI endpoint modules."""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
from opentelemetry.semconv._incubating.attributes import openai_attributes

from llmtap import parameters, parts
from llmtap.record import LLMCall

# Request body key -> semantic-convention attribute, for scalar parameters taken as they are.
SCALAR_PARAMETERS = {
    "temperature": gen_ai.GEN_AI_REQUEST_TEMPERATURE,
    "top_p": gen_ai.GEN_AI_REQUEST_TOP_P,
    "top_k": gen_ai.GEN_AI_REQUEST_TOP_K,  # not an OpenAI parameter; OpenAI-compatible servers take it
    "frequency_penalty": gen_ai.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": gen_ai.GEN_AI_REQUEST_PRESENCE_PENALTY,
    "seed": gen_ai.GEN_AI_REQUEST_SEED,
    "service_tier": openai_attributes.OPENAI_REQUEST_SERVICE_TIER,
}


def new_call(body: dict[str, Any], operation: str, capture_content: bool, api_type: str | None = None) -> LLMCall:
    """`api_type`: the conventions' `openai.api.type` (`chat_completions`, `responses`), which tells the two APIs'
    `chat` spans apart."""
    call = parameters.new_call("openai", operation, body, capture_content, SCALAR_PARAMETERS, stop_key="stop")
    if api_type is not None:
        call.request_attributes[openai_attributes.OPENAI_API_TYPE] = api_type
    return call


def output_type(format_type: str | None, attributes: dict[str, Any]) -> None:
    """`response_format` / `text.format` type -> `gen_ai.output.type`."""
    if format_type:
        attributes[gen_ai.GEN_AI_OUTPUT_TYPE] = "text" if format_type == "text" else "json"
        # The exact format asked for (json_object, json_schema): ours, as the conventions name only the output type
        # (their former `gen_ai.openai.request.response_format` is deprecated for `gen_ai.output.type`).
        attributes["llmtap.openai.response_format"] = format_type


def response_metadata(response: Any, attributes: dict[str, Any]) -> None:
    tier = getattr(response, "service_tier", None)
    if tier:
        attributes[openai_attributes.OPENAI_RESPONSE_SERVICE_TIER] = tier
    fingerprint = getattr(response, "system_fingerprint", None)
    if fingerprint:
        attributes[openai_attributes.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = fingerprint


def tool_definitions(tools: Any) -> list[dict[str, Any]] | None:
    """Chat (`{"type": "function", "function": {...}}`) and Responses (flat) tool definitions."""
    if not tools:
        return None
    definitions = []
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        function = tool.get("function")
        if isinstance(function, dict):
            definitions.append(
                parts.function_tool(function.get("name"), function.get("description"), function.get("parameters"))
            )
        elif tool.get("type") == "function":
            definitions.append(parts.function_tool(tool.get("name"), tool.get("description"), tool.get("parameters")))
        else:
            definitions.append(dict(tool))
    return definitions
