"""One in-flight call: its record, its span and its clock. Ends exactly once."""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span

from llmtap import layers, runtime
from llmtap.emitter import Emitter
from llmtap.record import LLMCall
from llmtap.refs import remember
from llmtap.safety import report_internal_error


class Invocation:
    __slots__ = ("_emitter", "_ended", "call", "span", "start", "stop")

    def __init__(self, emitter: Emitter, call: LLMCall) -> None:
        layers.mark_covered()  # the duplicate policy: see llmtap.layers
        runtime.follow_global_provider()
        self._emitter = emitter
        self.call = call
        self.start = time.perf_counter()
        self.span: Span = emitter.start(call)
        self.stop: float | None = None
        self._ended = False

    def activate(self) -> object:
        """Make the span current (so nested SDK/HTTP spans become its children); returns a token."""
        return otel_context.attach(trace.set_span_in_context(self.span))

    @staticmethod
    def deactivate(token: object) -> None:
        otel_context.detach(token)  # type: ignore[arg-type]

    def produced(self, obj: Any) -> None:
        """`obj` came out of this call: `llmtap.span_of(obj)` will find this span."""
        remember(obj, self.span.get_span_context())

    @property
    def ended(self) -> bool:
        return self._ended

    def end(self, error: BaseException | None = None, record_metrics: bool = True) -> None:
        if self._ended:
            return
        self._ended = True
        if error is not None:
            self.call.error = error
        try:
            self._emitter.finish(self.call, self.span, self.start, self.stop, record_metrics)
        except Exception as exc:
            report_internal_error("emitting a span", exc)
