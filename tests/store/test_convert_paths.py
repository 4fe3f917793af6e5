"""`SpanRow` reads the SDK's own spans through their private fields (faster) and any other span through its public
properties: both give the same row, and the fast path is the one taken with the installed SDK."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from llmtap.store import convert
from llmtap.store.convert import SpanRow


class _OtherSpan(ReadableSpan):
    """A span of another class (as another SDK's or a test double's), read through the public properties only."""


def _recorded() -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "shop"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("llmtap", "0.1.0")
    with tracer.start_as_current_span("invoke_workflow answer", attributes={"llmtap.tag.user_id": "u-1"}):
        with tracer.start_as_current_span(
            "chat gpt-4o-mini",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o-mini",
                "gen_ai.usage.input_tokens": 12,
                "gen_ai.usage.output_tokens": 3,
                "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"Where is my refund?"}]}]',
            },
        ) as span:
            span.add_event("gen_ai.choice", {"index": 0})
            span.set_status(Status(StatusCode.ERROR, "boom"))
    provider.shutdown()
    return list(exporter.get_finished_spans())


def _copy(span: ReadableSpan) -> _OtherSpan:
    return _OtherSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=span.attributes,
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def test_the_installed_sdk_spans_take_the_private_field_path() -> None:
    assert convert._SDK_SPANS == frozenset({ReadableSpan, SdkSpan})
    assert all(span.__class__ in convert._SDK_SPANS for span in _recorded())


def test_both_paths_give_the_same_row() -> None:
    for span in _recorded():
        fast, public = SpanRow(span), SpanRow(_copy(span))
        assert _OtherSpan not in convert._SDK_SPANS
        assert fast.row_values() == public.row_values()
        assert (fast.resource, fast.scope) == (public.resource, public.scope)


def test_an_sdk_lacking_one_of_the_fields_is_read_through_public_properties(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(convert, "_SDK_FIELDS", (*convert._SDK_FIELDS, "_renamed_in_a_later_release"))
    assert convert._sdk_span_classes() == frozenset()
