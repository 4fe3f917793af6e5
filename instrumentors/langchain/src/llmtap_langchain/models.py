"""Which model a LangChain chat model / LLM run calls: provider, model, request parameters, tools.

Every `BaseChatModel` / `BaseLLM` reports `ls_provider` / `ls_model_name` (and temperature, max
tokens, stop) in its run metadata, derived from its class and parameters; custom and fake models
included. Those are the generic source; the invocation parameters fill in the rest.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

from llmtap import parts

# LangChain's `ls_provider` values that differ from the semconv provider names.
_PROVIDERS = {
    "azure": "azure.ai.openai",
    "google_genai": "gcp.gen_ai",
    "google_vertexai": "gcp.vertex_ai",
    "amazon_bedrock": "aws.bedrock",
    "aws": "aws.bedrock",
    "bedrock": "aws.bedrock",
    "mistralai": "mistral_ai",
    "xai": "x_ai",
}


def provider(metadata: dict[str, Any], serialized: dict[str, Any] | None) -> str:
    name = metadata.get("ls_provider")
    if not name and serialized:
        name = (serialized.get("id") or ["langchain"])[-1]
    name = str(name or "langchain").lower()
    return _PROVIDERS.get(name, name)


MODEL_CLASS = "llmtap.langchain.model_class"
HINT_PREFIX = "llmtap.langchain."  # + the `ls_*` metadata key


def hints(metadata: dict[str, Any], serialized: dict[str, Any] | None) -> dict[str, Any]:
    """What LangChain says of the model: its class and its `ls_*` hints (provider, model, type, temperature,
    max tokens, stop), kept as they are (the model span's own attributes are the conventions' values)."""
    found: dict[str, Any] = {}
    ident = (serialized or {}).get("id")
    if isinstance(ident, list) and ident and isinstance(ident[-1], str):
        found[MODEL_CLASS] = ident[-1]
    for key, value in metadata.items():
        if not key.startswith("ls_") or value is None:
            continue
        if isinstance(value, str | bool | int | float):
            found[HINT_PREFIX + key] = value
        elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            found[HINT_PREFIX + key] = [str(item) for item in value]
    return found


def model_name(metadata: dict[str, Any], params: dict[str, Any]) -> str | None:
    name = metadata.get("ls_model_name") or params.get("model") or params.get("model_name")
    return str(name) if name else None


def request_attributes(metadata: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for key, name in (
        ("ls_temperature", gen_ai.GEN_AI_REQUEST_TEMPERATURE),
        ("ls_max_tokens", gen_ai.GEN_AI_REQUEST_MAX_TOKENS),
    ):
        value = metadata.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            attributes[name] = value
    for key, name in (
        ("top_p", gen_ai.GEN_AI_REQUEST_TOP_P),
        ("top_k", gen_ai.GEN_AI_REQUEST_TOP_K),
        ("seed", gen_ai.GEN_AI_REQUEST_SEED),
        ("frequency_penalty", gen_ai.GEN_AI_REQUEST_FREQUENCY_PENALTY),
        ("presence_penalty", gen_ai.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ):
        value = params.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            attributes[name] = value
    stop = metadata.get("ls_stop") or params.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if isinstance(stop, list | tuple) and stop:
        attributes[gen_ai.GEN_AI_REQUEST_STOP_SEQUENCES] = [str(item) for item in stop]
    return attributes


def tool_definitions(params: dict[str, Any]) -> list[dict[str, Any]] | None:
    tools = params.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    result = []
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        function = tool.get("function") if isinstance(tool.get("function"), dict) else tool
        parameters = function.get("parameters", function.get("input_schema"))
        result.append(parts.function_tool(function.get("name"), function.get("description"), parameters))
    return result or None
