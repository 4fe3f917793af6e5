"""A LangGraph agent built with a name is one `invoke_agent {name}` span (`gen_ai.agent.name`).

LangChain marks the runs of an agent with `lc_agent_name` run metadata (`create_agent` does), which the
handler reads. LangGraph's prebuilt `create_react_agent(..., name=...)` only names its graph; llmtap gives
the graph it returns the same mark, in the graph's own config metadata, so the agent's run and every
run below it carry `lc_agent_name` as with `create_agent`. A graph without a name is a workflow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import wrapt

from llmtap.plugin import LlmtapInstrumentor
from llmtap.safety import report_internal_error

AGENT_NAME_METADATA = "lc_agent_name"
_MODULES = ("langgraph.prebuilt.chat_agent_executor", "langgraph.prebuilt")


def mark(graph: Any, name: str) -> None:
    """Give a compiled graph's runs the agent name (unless the graph already has one)."""
    config = dict(getattr(graph, "config", None) or {})
    metadata = dict(config.get("metadata") or {})
    if metadata.get(AGENT_NAME_METADATA):
        return
    metadata[AGENT_NAME_METADATA] = name
    config["metadata"] = metadata
    graph.config = config


def create_react_agent_wrapper(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
    graph = wrapped(*args, **kwargs)
    try:
        name = kwargs.get("name")
        if isinstance(name, str) and name:
            mark(graph, name)
    except Exception as exc:
        report_internal_error("naming a LangGraph agent", exc)
    return graph


def hooks(instrumentor: LlmtapInstrumentor, active: Callable[[], bool]) -> list[tuple[str, Callable[[Any], None]]]:
    """Post-import hooks wrapping `create_react_agent` where it is defined and where LangGraph re-exports it."""

    def hook(module: Any) -> None:
        if not active():
            return
        try:
            function = getattr(module, "create_react_agent", None)
            if function is not None and not isinstance(function, wrapt.ObjectProxy):  # not wrapped yet
                instrumentor.wrap_attribute(module, "create_react_agent", create_react_agent_wrapper)
        except Exception as exc:
            report_internal_error("patching langgraph's create_react_agent", exc)

    return [(module, hook) for module in _MODULES]
