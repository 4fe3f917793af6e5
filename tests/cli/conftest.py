"""A small store with known contents for the CLI tests: three traces written through the real OTel pipeline
(fixed ids and times), and annotations written through the store API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context

from llmtap.store import StoredAnnotation, open_store
from llmtap.store.exporter import StoreSpanExporter

T0 = 1_764_234_000_000_000_000  # 2025-11-27T09:00:00Z
MS = 1_000_000
TRACE_A, TRACE_B, TRACE_C = "a1" * 16, "b2" * 16, "c3" * 16


def messages(*turns: tuple[str, str]) -> str:
    return json.dumps([{"role": role, "parts": [{"type": "text", "content": text}]} for role, text in turns])


class FixedIds(IdGenerator):
    def __init__(self) -> None:
        self.trace_ids: list[int] = []
        self.next_span = 0

    def generate_trace_id(self) -> int:
        return self.trace_ids.pop(0)

    def generate_span_id(self) -> int:
        self.next_span += 1
        return self.next_span


def chat(model: str, provider: str, tokens: tuple[int, int] | None, labels: dict[str, str]) -> dict:
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        **{f"llmtap.tag.{key}": value for key, value in labels.items()},
    }
    if tokens is not None:
        attributes |= {
            "gen_ai.usage.input_tokens": tokens[0],
            "gen_ai.usage.output_tokens": tokens[1],
            "llmtap.usage.cost": cost(*tokens),
            "llmtap.usage.cost_source": "genai-prices@0.2.3",
        }
    return attributes


def cost(input_tokens: int, output_tokens: int) -> float:
    """The cost these spans carry, as llmtap would record it at $0.15 / $0.60 per million tokens."""
    return (input_tokens * 0.15 + output_tokens * 0.6) / 1e6


def write_traces(path: Path) -> None:
    ids = FixedIds()
    ids.trace_ids = [int(TRACE_A, 16), int(TRACE_B, 16), int(TRACE_C, 16)]
    provider = TracerProvider(resource=Resource({"service.name": "shop"}), id_generator=ids)
    provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(path)))
    tracer = provider.get_tracer("tests")

    def span(name, start, end, parent=None, kind=SpanKind.INTERNAL, attributes=None, error=None):
        context = set_span_in_context(parent) if parent is not None else None
        item = tracer.start_span(name, context=context, kind=kind, attributes=attributes, start_time=T0 + start * MS)
        if error:
            item.set_status(Status(StatusCode.ERROR, error))
            item.add_event("exception", {"exception.type": error}, timestamp=T0 + end * MS)
        item.end(end_time=T0 + end * MS)
        return item

    # A: v1, a RAG answer (retrieval + one OpenAI call), 400 ms.
    v1 = {"prompt_version": "v1", "user_id": "u-1"}
    root = tracer.start_span(
        "invoke_workflow support_turn",
        attributes={"gen_ai.operation.name": "invoke_workflow", **{f"llmtap.tag.{k}": v for k, v in v1.items()}},
        start_time=T0,
    )
    documents = [{"id": "policy-returns", "score": 0.5, "content": "Returns within 30 days."}]
    span(
        "retrieval PolicyRetriever",
        1,
        2,
        root,
        attributes={
            "gen_ai.operation.name": "retrieval",
            "gen_ai.retrieval.query.text": "Can I return my bike?",
            "gen_ai.retrieval.documents": json.dumps(documents),
            **{f"llmtap.tag.{k}": v for k, v in v1.items()},
        },
    )
    attributes = chat("gpt-4o-mini", "openai", (100, 20), v1)
    attributes["gen_ai.input.messages"] = messages(("user", "Can I return my bike?"))
    attributes["gen_ai.output.messages"] = json.dumps(
        [{"role": "assistant", "parts": [{"type": "text", "content": "Yes, within 30 days."}], "finish_reason": "stop"}]
    )
    span("chat gpt-4o-mini", 2, 202, root, SpanKind.CLIENT, attributes)
    root.end(end_time=T0 + 400 * MS)

    # B: v2, a tool call with OpenAI, then Claude fails (overloaded), 1 s later, 900 ms.
    v2 = {"prompt_version": "v2", "user_id": "u-2"}
    start = 1000
    root = tracer.start_span(
        "invoke_workflow support_turn",
        attributes={"gen_ai.operation.name": "invoke_workflow", **{f"llmtap.tag.{k}": v for k, v in v2.items()}},
        start_time=T0 + start * MS,
    )
    attributes = chat("gpt-4o-mini", "openai", (60, 12), v2)
    attributes["gen_ai.input.messages"] = messages(("user", "Where is my order VB-1042?"))
    attributes["gen_ai.output.messages"] = json.dumps(
        [
            {
                "role": "assistant",
                "parts": [
                    {
                        "type": "tool_call",
                        "id": "call_1",
                        "name": "get_order_status",
                        "arguments": {"order_id": "VB-1042"},
                    }
                ],
                "finish_reason": "tool_call",
            }
        ]
    )
    span("chat gpt-4o-mini", start + 1, start + 101, root, SpanKind.CLIENT, attributes)
    span(
        "execute_tool get_order_status",
        start + 102,
        start + 103,
        root,
        attributes={
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "get_order_status",
            "gen_ai.tool.call.arguments": '{"order_id": "VB-1042"}',
            "gen_ai.tool.call.result": '{"status": "shipped"}',
            **{f"llmtap.tag.{k}": v for k, v in v2.items()},
        },
    )
    failed = chat("claude-haiku-4-5", "anthropic", None, v2) | {"error.type": "OverloadedError"}
    span("chat claude-haiku-4-5", start + 104, start + 504, root, SpanKind.CLIENT, failed, error="OverloadedError")
    root.end(end_time=T0 + (start + 900) * MS)

    # C: v2, one OpenAI call about frame sizes (no workflow), 2 s later, 300 ms.
    v3 = {"prompt_version": "v2", "user_id": "u-3"}
    attributes = chat("gpt-4o-mini", "openai", (50, 10), v3)
    attributes["gen_ai.input.messages"] = messages(("user", "Which frame size fits 172 cm?"))
    span("chat gpt-4o-mini", 2000, 2300, None, SpanKind.CLIENT, attributes)
    provider.shutdown()


def annotation(number: int, trace_id: str, name: str, value, **extra) -> StoredAnnotation:
    return StoredAnnotation(
        annotation_id=f"ann-{number}",
        name=name,
        value=value,
        trace_id=trace_id,
        label=value if isinstance(value, str) else None,
        score=float(value) if not isinstance(value, str) else None,
        annotator_kind="end_user",
        target={"trace_id": trace_id},
        time_ns=T0 + 5000 * MS + number,
        **extra,
    )


ANNOTATIONS = [
    annotation(1, TRACE_A, "user_feedback", "thumbs_down"),
    annotation(2, TRACE_B, "user_feedback", "thumbs_up", explanation="quick answer"),
    annotation(3, TRACE_C, "user_feedback", "thumbs_up"),
    annotation(4, TRACE_A, "helpfulness", 2),
    annotation(5, TRACE_B, "helpfulness", 4),
    annotation(6, TRACE_C, "helpfulness", 5),
]


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    write_traces(path)
    store = open_store(path)
    try:
        store.write_annotations(ANNOTATIONS)
    finally:
        store.close()
    return path
