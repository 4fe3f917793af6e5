"""Which spans are LLM spans, and the attribute names labels take on a span: read by the label policy, the CLI, the
export and routing (a module of its own, light to import: reading a stored trace needs no label policy).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

ATTRIBUTE_PREFIX = "llmtap.tag."
_OPERATION = gen_ai.GEN_AI_OPERATION_NAME
# Spans of application structure, not model calls: required labels are not checked on them.
_STRUCTURE = frozenset(
    op.value
    for op in (
        gen_ai.GenAiOperationNameValues.INVOKE_WORKFLOW,
        gen_ai.GenAiOperationNameValues.INVOKE_AGENT,
        gen_ai.GenAiOperationNameValues.CREATE_AGENT,
        gen_ai.GenAiOperationNameValues.EXECUTE_TOOL,
        gen_ai.GenAiOperationNameValues.RETRIEVAL,
    )
)


def is_llm_span(attributes: Mapping[str, Any] | None) -> bool:
    """Whether a span with these attributes is an LLM span, on which required labels are checked: one with
    `gen_ai.operation.name`, other than the structure operations (workflow, agent, tool, retrieval).

    The one predicate used by the runtime check (`LabelPolicy.check_span`) and `llmtap labels check --file`.
    """
    if not attributes:
        return False
    operation = attributes.get(_OPERATION)
    return operation is not None and operation not in _STRUCTURE
