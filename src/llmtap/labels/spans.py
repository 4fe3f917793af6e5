"""Which spans are LLM spans, and the attribute names labels take on a span: read by the label policy, the CLI, the
export and routing (a module of its own, light to import: reading a stored trace needs no label policy).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmtap.semconv_names import GEN_AI, read

ATTRIBUTE_PREFIX = "llmtap.tag."
# Spans of application structure, not model calls: required labels are not checked on them. (`read`: the semconv
# values without importing the module, which `llmtap show` would otherwise pay for.)
_OPERATION, *_structure = read(
    GEN_AI,
    "GEN_AI_OPERATION_NAME",
    "GenAiOperationNameValues.INVOKE_WORKFLOW",
    "GenAiOperationNameValues.INVOKE_AGENT",
    "GenAiOperationNameValues.CREATE_AGENT",
    "GenAiOperationNameValues.EXECUTE_TOOL",
    "GenAiOperationNameValues.RETRIEVAL",
)
_STRUCTURE = frozenset(_structure)


def is_llm_span(attributes: Mapping[str, Any] | None) -> bool:
    """Whether a span with these attributes is an LLM span, on which required labels are checked: one with
    `gen_ai.operation.name`, other than the structure operations (workflow, agent, tool, retrieval).

    The one predicate used by the runtime check (`LabelPolicy.check_span`) and `llmtap labels check --file`.
    """
    if not attributes:
        return False
    operation = attributes.get(_OPERATION)
    return operation is not None and operation not in _STRUCTURE
