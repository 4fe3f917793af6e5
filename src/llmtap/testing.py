"""Testing LLM features without a backend: `Capture` records what llmtap exports, in memory.

The pytest plugin (`llmtap.pytest_plugin`, fixture `llmtap_capture`) is a thin shell over `Capture`;
`Capture` works outside pytest too (`with Capture() as capture: ...`).

    with Capture(capture_content=False) as capture:
        answer_question("What is llmtap?")          # the application code under test
    call = capture.model_call(model="gpt-4o-mini")  # exactly one such call, or an AssertionError
    assert call.input_tokens == 12 and call.labels["user_id"] == "u1"
    capture.assert_no_content()

A *model call* is one API call to a model: the innermost LLM span (a span with `gen_ai.operation.name`
other than workflow/agent/tool/retrieval) that has no LLM span below it. When a framework span (a LangChain
chat model, the manual API) wraps an instrumented SDK call, the SDK's span is the model call, as the token
metrics count it once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv.attributes import error_attributes

from llmtap.labels.policy import ATTRIBUTE_PREFIX, is_llm_span

try:  # the SDK renamed its in-memory log exporter (1.39: InMemoryLogRecordExporter)
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter as _InMemoryLogExporter
except ImportError:  # pragma: no cover - older SDKs
    from opentelemetry.sdk._logs.export import InMemoryLogExporter as _InMemoryLogExporter  # type: ignore
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

__all__ = ["CONTENT_ATTRIBUTES", "Capture", "InMemoryTelemetry", "ModelCall"]

# Attributes that hold captured content (prompts, completions, tool arguments and results, queries).
# With content capture off none of them is on any span.
CONTENT_ATTRIBUTES = (
    genai.GEN_AI_INPUT_MESSAGES,
    genai.GEN_AI_OUTPUT_MESSAGES,
    genai.GEN_AI_SYSTEM_INSTRUCTIONS,
    genai.GEN_AI_TOOL_DEFINITIONS,
    genai.GEN_AI_TOOL_CALL_ARGUMENTS,
    genai.GEN_AI_TOOL_CALL_RESULT,
    "gen_ai.retrieval.query.text",
)

# The settings a test run must not inherit from the developer's shell (they would change what is captured).
_ENVIRONMENT = (
    "LLMTAP_ENABLED",
    "OTEL_SDK_DISABLED",
    "LLMTAP_CAPTURE_CONTENT",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
)


def _hex(number: int, digits: int) -> str:
    return format(number, f"0{digits}x")


@dataclass(frozen=True)
class ModelCall:
    """One model API call as llmtap exported it (a read-only view of its span)."""

    span: ReadableSpan

    @property
    def attributes(self) -> Mapping[str, Any]:
        return self.span.attributes or {}

    @property
    def name(self) -> str:
        return self.span.name

    @property
    def trace_id(self) -> str:
        return _hex(self.span.context.trace_id, 32)

    @property
    def span_id(self) -> str:
        return _hex(self.span.context.span_id, 16)

    @property
    def operation(self) -> str | None:
        return self.attributes.get(genai.GEN_AI_OPERATION_NAME)

    @property
    def provider(self) -> str | None:
        return self.attributes.get(genai.GEN_AI_PROVIDER_NAME)

    @property
    def model(self) -> str | None:
        """The model asked for (`gen_ai.request.model`)."""
        return self.attributes.get(genai.GEN_AI_REQUEST_MODEL)

    @property
    def response_model(self) -> str | None:
        return self.attributes.get(genai.GEN_AI_RESPONSE_MODEL)

    @property
    def input_tokens(self) -> int | None:
        return self.attributes.get(genai.GEN_AI_USAGE_INPUT_TOKENS)

    @property
    def output_tokens(self) -> int | None:
        return self.attributes.get(genai.GEN_AI_USAGE_OUTPUT_TOKENS)

    @property
    def error_type(self) -> str | None:
        return self.attributes.get(error_attributes.ERROR_TYPE)

    @property
    def labels(self) -> dict[str, Any]:
        """The llmtap labels on the span (`llmtap.tag.<key>`), by key."""
        prefix = len(ATTRIBUTE_PREFIX)
        return {key[prefix:]: value for key, value in self.attributes.items() if key.startswith(ATTRIBUTE_PREFIX)}

    def _json(self, name: str) -> Any:
        raw = self.attributes.get(name)
        return None if raw is None else json.loads(raw)

    @property
    def input_messages(self) -> list[dict[str, Any]] | None:
        """`gen_ai.input.messages`, parsed (None when content was not captured)."""
        return self._json(genai.GEN_AI_INPUT_MESSAGES)

    @property
    def output_messages(self) -> list[dict[str, Any]] | None:
        return self._json(genai.GEN_AI_OUTPUT_MESSAGES)

    @property
    def output_text(self) -> str | None:
        """The text parts of the output messages, joined (None when content was not captured)."""
        messages = self.output_messages
        if messages is None:
            return None
        parts = [part for message in messages for part in message.get("parts", ())]
        return "".join(part.get("content", "") for part in parts if part.get("type") == "text")

    @property
    def content_attributes(self) -> list[str]:
        """The content attributes present on this call's span (empty when content capture is off)."""
        return [name for name in CONTENT_ATTRIBUTES if name in self.attributes]

    def assert_labels(self, **expected: Any) -> None:
        """Each given label is on the span with exactly this value (other labels may be there too)."""
        labels = self.labels
        wrong = {key: labels.get(key, "<missing>") for key, value in expected.items() if labels.get(key) != value}
        assert not wrong, f"{self.name}: labels {wrong} differ from the expected {expected}; the span has {labels}"

    def __repr__(self) -> str:
        tokens = f"{self.input_tokens}/{self.output_tokens}"
        return f"ModelCall({self.name!r}, provider={self.provider!r}, tokens in/out={tokens}, labels={self.labels})"


class InMemoryTelemetry:
    """Tracer, meter and logger providers that keep everything in memory: spans, metric points, log records."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])
        self.log_exporter = _InMemoryLogExporter()
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter))

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        """Every finished span (of llmtap and of the application), in the order they ended."""
        spans = list(self.exporter.get_finished_spans())
        return [span for span in spans if name is None or span.name == name]

    def metric_points(self, name: str) -> list[Any]:
        """Every data point of the metric `name` so far (cumulative)."""
        data = self.metric_reader.get_metrics_data()
        points: list[Any] = []
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points

    def log_records(self) -> list[Any]:
        """Every log record emitted through the logger provider (llmtap's annotations are log records)."""
        return list(self.log_exporter.get_finished_logs())

    def everything_exported(self) -> str:
        """Every span, metric point and log record as one JSON text (for leak checks)."""
        parts = [span.to_json() for span in self.spans()]
        data = self.metric_reader.get_metrics_data()
        if data is not None:
            parts.append(data.to_json())
        # SDK >= 1.39 exports `ReadableLogRecord`s (their own `to_json`); older ones `LogData` (its `log_record`'s).
        parts += [
            record.to_json() if hasattr(record, "to_json") else record.log_record.to_json()
            for record in self.log_records()
        ]
        return "\n".join(parts)


class Capture(InMemoryTelemetry):
    """llmtap instrumented into an in-memory pipeline: spans, metrics and log records of the code under test.

    `instrument()` is called on entry with in-memory tracer, meter and logger providers (the other arguments
    are passed on as given) and `uninstrument()` on exit. Settings from the environment that would change
    what is captured (`LLMTAP_CAPTURE_CONTENT`, `LLMTAP_ENABLED`, ...) are ignored while it is active, so a
    test sees the same thing on every machine; the config file (`[tool.llmtap]`: label schema, ...) applies.
    """

    def __init__(
        self,
        *,
        capture_content: bool | None = None,
        config: Mapping[str, Any] | str | os.PathLike[str] | None = None,
        providers: list[str] | None = None,
    ) -> None:
        super().__init__()
        self._options: dict[str, Any] = {"capture_content": capture_content, "config": config, "providers": providers}
        self._saved_environment: dict[str, str] = {}

    # --- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> Capture:
        import llmtap

        self._saved_environment = {name: os.environ.pop(name) for name in _ENVIRONMENT if name in os.environ}
        try:
            llmtap.instrument(
                tracer_provider=self.tracer_provider,
                meter_provider=self.meter_provider,
                logger_provider=self.logger_provider,
                **self._options,
            )
        except BaseException:
            os.environ.update(self._saved_environment)
            raise
        return self

    def stop(self) -> None:
        import llmtap

        try:
            llmtap.uninstrument()
        finally:
            os.environ.update(self._saved_environment)
            self._saved_environment = {}

    def __enter__(self) -> Capture:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def clear(self) -> None:
        """Forget the spans and log records so far (metrics are cumulative and stay)."""
        self.exporter.clear()
        self.log_exporter.clear()

    # --- spans ----------------------------------------------------------------------------------------

    def span(self, name: str) -> ReadableSpan:
        """The one finished span called `name`."""
        found = self.spans(name)
        assert len(found) == 1, f"expected one span named {name!r}, found {len(found)}: {self._names()}"
        return found[0]

    def _names(self) -> list[str]:
        return [span.name for span in self.spans()]

    def model_calls(
        self, *, model: str | None = None, provider: str | None = None, operation: str | None = None
    ) -> list[ModelCall]:
        """The model API calls, in start order, optionally only those of a model / provider / operation."""
        spans = self.spans()
        llm = [span for span in spans if is_llm_span(span.attributes)]
        llm_ids = {span.context.span_id for span in llm}
        by_id = {span.context.span_id: span for span in spans}
        wrapping: set[int] = set()  # LLM spans with an LLM span somewhere below them
        for span in llm:
            parent = span.parent
            while parent is not None and parent.span_id in by_id:
                if parent.span_id in llm_ids:
                    wrapping.add(parent.span_id)
                parent = by_id[parent.span_id].parent
        calls = [ModelCall(span) for span in llm if span.context.span_id not in wrapping]
        calls.sort(key=lambda call: call.span.start_time or 0)
        return [
            call
            for call in calls
            if (model is None or call.model == model)
            and (provider is None or call.provider == provider)
            and (operation is None or call.operation == operation)
        ]

    def model_call(
        self, *, model: str | None = None, provider: str | None = None, operation: str | None = None
    ) -> ModelCall:
        """The one model call matching the filters (AssertionError, listing the calls, when not exactly one)."""
        calls = self.model_calls(model=model, provider=provider, operation=operation)
        if len(calls) != 1:
            wanted = {k: v for k, v in (("model", model), ("provider", provider), ("operation", operation)) if v}
            raise AssertionError(
                f"expected one model call{' with ' + str(wanted) if wanted else ''}, found {len(calls)}; "
                f"all model calls: {self.model_calls()}"
            )
        return calls[0]

    def models(self) -> list[str | None]:
        """The model asked for by each model call, in order."""
        return [call.model for call in self.model_calls()]

    def assert_no_content(self) -> None:
        """No span carries captured content: no content attribute, no document text, no exception message."""
        found = []
        for span in self.spans():
            attributes = span.attributes or {}
            found += [f"{span.name}: {name}" for name in CONTENT_ATTRIBUTES if name in attributes]
            documents = attributes.get("gen_ai.retrieval.documents")
            if documents and any("content" in document for document in json.loads(documents)):
                found.append(f"{span.name}: gen_ai.retrieval.documents with document text")
            found += [
                f"{span.name}: exception event message"
                for event in span.events
                if event.name == "exception" and (event.attributes or {}).get("exception.message")
            ]
        assert not found, "content was captured: " + "; ".join(found)

    def assert_not_exported(self, text: str) -> None:
        """`text` (a prompt, a secret) appears nowhere in what was exported: spans, metrics or log records (as
        written, nor as JSON escapes it: the SDK's JSON writes `é` as `\\u00e9`)."""
        exported = self.everything_exported()
        for form in {text, json.dumps(text)[1:-1], json.dumps(json.dumps(text)[1:-1])[1:-1]}:
            assert form not in exported, f"{text!r} was exported"

    # --- metrics --------------------------------------------------------------------------------------

    def token_usage(self, *, model: str | None = None) -> dict[str, int]:
        """Tokens recorded by `gen_ai.client.token.usage`, by token type (`input`, `output`), summed."""
        totals: dict[str, int] = {}
        for point in self.metric_points("gen_ai.client.token.usage"):
            attributes = point.attributes or {}
            if model is not None and attributes.get(genai.GEN_AI_REQUEST_MODEL) != model:
                continue
            kind = str(attributes.get(genai.GEN_AI_TOKEN_TYPE))
            totals[kind] = totals.get(kind, 0) + int(point.sum)
        return totals
