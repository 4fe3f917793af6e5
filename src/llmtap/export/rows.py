"""One exported row per trace, in one of three shapes:

- `chat`: OpenAI's supervised fine-tuning chat format, `{"messages": [...]}` (the corrected answer, when a
  `correction` annotation exists, replaces the model's);
- `eval`: inputs, output, expected output, labels, annotation values and cost;
- `preference`: OpenAI's DPO format, `{"input": {"messages"}, "preferred_output", "non_preferred_output"}`
  from corrected traces (the correction preferred, the model's answer not).

Provenance (trace and span id, annotations with schema name@version, annotators, times) goes in an
`llmtap` key of the row, or nowhere (`provenance="none"`; the CLI can write it to a side file instead).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai

from llmtap.export.messages import conversation, final_message, openai_tools
from llmtap.labels.policy import is_llm_span
from llmtap.store.api import StoredAnnotation, StoredSpan, TraceDetail, iso_time

FORMATS = ("chat", "eval", "preference")
CORRECTION = "correction"
COST = "llmtap.usage.cost"


@dataclass(frozen=True)
class Exported:
    """A row and its provenance (kept apart so the CLI may write them to separate files)."""

    row: dict[str, Any]
    provenance: dict[str, Any]


def _json(span: StoredSpan, name: str) -> Any:
    raw = span.attributes.get(name)
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return raw


def model_call(detail: TraceDetail, model: str | None = None) -> StoredSpan | None:
    """The trace's last model call with captured messages (the answer a reviewer judged); with `model`, the last
    call of that model (its request or response model name), when a trace calls several models."""
    calls = [
        span
        for span in detail.spans
        if is_llm_span(span.attributes)
        and genai.GEN_AI_INPUT_MESSAGES in span.attributes
        and (model is None or model in _models(span))
    ]
    leaves = [span for span in calls if not any(other.parent_span_id == span.span_id for other in calls)]
    return max(leaves, key=lambda span: span.start_time_ns) if leaves else None


def _models(span: StoredSpan) -> tuple[Any, Any]:
    return span.attributes.get(genai.GEN_AI_REQUEST_MODEL), span.attributes.get(genai.GEN_AI_RESPONSE_MODEL)


def latest(annotations: Iterable[StoredAnnotation]) -> dict[str, StoredAnnotation]:
    """The latest annotation of each name."""
    found: dict[str, StoredAnnotation] = {}
    for annotation in sorted(annotations, key=lambda item: item.time_ns):
        found[annotation.name] = annotation
    return found


def provenance(detail: TraceDetail, span: StoredSpan, used: Iterable[StoredAnnotation]) -> dict[str, Any]:
    annotations = [
        {
            "name": annotation.name,
            "schema": f"{annotation.name}@{annotation.schema_version}"
            if annotation.schema_version
            else annotation.name,
            "annotator": annotation.annotator,
            "annotator_kind": annotation.annotator_kind,
            "time": iso_time(annotation.time_ns),
        }
        for annotation in used
    ]
    return {
        "trace_id": detail.trace_id,
        "span_id": span.span_id,
        "model": span.attributes.get(genai.GEN_AI_RESPONSE_MODEL) or span.attributes.get(genai.GEN_AI_REQUEST_MODEL),
        "start_time": iso_time(span.start_time_ns),
        "annotations": annotations,
        "annotators": sorted({entry["annotator"] for entry in annotations if entry["annotator"]}),
    }


def row(detail: TraceDetail, fmt: str, model: str | None = None) -> Exported | None:
    """The row of `fmt` for a trace, or None when the trace has none (no captured model call, of `model` when
    given; for `preference`, no correction)."""
    span = model_call(detail, model)
    if span is None:
        return None
    prompt = conversation(_json(span, genai.GEN_AI_SYSTEM_INSTRUCTIONS), _json(span, genai.GEN_AI_INPUT_MESSAGES))
    answer = final_message(_json(span, genai.GEN_AI_OUTPUT_MESSAGES))
    values = latest(detail.annotations)
    correction = values.get(CORRECTION)
    corrected = None if correction is None else {"role": "assistant", "content": str(correction.value)}
    # The functions the model was offered, as a training row lists them (`tools`), when the call sent any.
    tools = {"tools": offered} if (offered := openai_tools(_json(span, genai.GEN_AI_TOOL_DEFINITIONS))) else {}
    if fmt == "chat":
        final = corrected or answer
        if final is None:
            return None
        used = [correction] if correction is not None else []
        return Exported({"messages": [*prompt, final], **tools}, provenance(detail, span, used))
    if fmt == "preference":
        if corrected is None or answer is None:
            return None
        return Exported(
            {"input": {"messages": prompt, **tools}, "preferred_output": [corrected], "non_preferred_output": [answer]},
            provenance(detail, span, [correction]),
        )
    if fmt == "eval":
        cost = [value for item in detail.spans if isinstance(value := item.attributes.get(COST), int | float)]
        return Exported(
            {
                "input": prompt,
                "output": answer,
                "expected_output": None if correction is None else str(correction.value),
                "labels": dict(detail.summary.labels),
                "annotations": {name: annotation.value for name, annotation in sorted(values.items())},
                "cost": round(sum(cost), 10) if cost else None,
                "error": detail.summary.error,
            },
            provenance(detail, span, values.values()),
        )
    raise ValueError(f"format={fmt!r}: expected one of {', '.join(FORMATS)}")
