"""One in-flight call: its record, its span and its clock. Ends exactly once."""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span

from llmtap import layers, runtime
from llmtap.emitter import Emitter
from llmtap.record import LLMCall
from llmtap.refs import remember
from llmtap.safety import report_internal_error


class Invocation:
    """`layer`: the model-call layer the call's own code runs in (framework and manual model calls,
    `llmtap.layers`); covered by a model span below, this invocation's span is no model span.

    `parent`: the context to start the span in (default: the current one). `deferred`: the span is
    started only when something needs it (`span`), or when the call ends uncovered, with the start time
    of the call; a covered deferred invocation never has a span.
    """

    __slots__ = (
        "_covers",
        "_emitter",
        "_ended",
        "_parent",
        "_span",
        "_start_ns",
        "call",
        "layer",
        "start",
        "stop",
    )

    def __init__(
        self,
        emitter: Emitter,
        call: LLMCall,
        *,
        layer: layers.ModelLayer | None = None,
        parent: Context | None = None,
        deferred: bool = False,
    ) -> None:
        facts, self._covers = layers.cover(layer)  # one API call, one model span: see llmtap.layers
        if facts:
            for name, value in facts.items():
                call.attributes.setdefault(name, value)
        runtime.follow_global_provider()
        self._emitter = emitter
        self.call = call
        self.layer = layer
        self.start = time.perf_counter()
        self.stop: float | None = None
        self._ended = False
        if deferred:
            self._parent = parent if parent is not None else otel_context.get_current()
            self._start_ns: int | None = time.time_ns()
            self._span: Span | None = None
        else:
            self._parent = parent
            self._start_ns = None
            self._span = emitter.start(call, parent)
            if self._covers:
                layers.spanned(self._covers, self._span.get_span_context())

    @property
    def span(self) -> Span:
        """The call's span (a deferred one is started now)."""
        if self._span is None:
            self._span = self._emitter.start(self.call, self._parent, self._start_ns)
            if self._covers:
                layers.spanned(self._covers, self._span.get_span_context())
        return self._span

    @property
    def started(self) -> bool:
        return self._span is not None

    @property
    def context_span(self) -> Span:
        """The span to make current while the call's own code runs: its own, or (deferred and not started)
        its parent's, so that a provider SDK span below takes the place of this one in the tree."""
        if self._span is not None:
            return self._span
        return trace.get_current_span(self._parent)

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
    def covered(self) -> bool:
        return self.layer is not None and self.layer.covered

    @property
    def ended(self) -> bool:
        return self._ended

    def end(self, error: BaseException | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        if error is not None:
            self.call.error = error
        try:
            if not self.covered:
                self._emitter.finish(self.call, self.span, self.start, self.stop)
            elif self._span is not None:
                self._emitter.finish_covered(self.call, self._span)
        except Exception as exc:
            report_internal_error("emitting a span", exc)
