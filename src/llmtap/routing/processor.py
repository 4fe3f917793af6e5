"""The span processor that routes each trace when its local root span ends, off the application's thread.

`on_end` only appends the span to its trace's buffer (bounded: at most `max_traces` open traces of at
most `max_spans` spans each; beyond that the oldest open trace is routed as it is). When the local root
ends (a span with no parent, or a remote one), the trace goes to a worker thread that evaluates the rules
and carries out their actions. A trace whose root never ends in this process is routed `timeout_s` after
its first span. Each routed trace is kept a while (bounded) so that an annotation arriving later can
re-route it with the annotation taken into account.
"""

from __future__ import annotations

import queue
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from llmtap.routing.runner import Runner, annotation_facts, facts_of_sdk, facts_of_stored
from llmtap.safety import report_internal_error

_STOP = object()


class RoutingSpanProcessor(SpanProcessor):
    """Buffers spans per trace and routes each trace with the runner `runner()` gives (None: routing off)."""

    instances: ClassVar[weakref.WeakSet[RoutingSpanProcessor]] = weakref.WeakSet()

    def __init__(
        self,
        runner: Callable[[], Runner | None],
        *,
        max_traces: int = 10_000,
        max_spans: int = 2_000,
        timeout_s: float = 300.0,
        keep_routed: int = 2_000,
    ) -> None:
        self._runner = runner
        self._max_traces = max_traces
        self._max_spans = max_spans
        self._timeout_s = timeout_s
        self._keep_routed = keep_routed
        self._open: OrderedDict[int, tuple[float, list[ReadableSpan]]] = OrderedDict()
        self._routed: OrderedDict[str, list[ReadableSpan]] = OrderedDict()  # worker thread only
        self._annotations: dict[str, list[Any]] = {}  # worker thread only: annotations seen, by trace
        self._lock = threading.Lock()
        self._work: queue.Queue[Any] = queue.Queue()
        self._pending = 0  # items submitted and not yet routed (under `_done`)
        self._done = threading.Condition()
        self._worker = threading.Thread(target=self._loop, name="llmtap-routing", daemon=True)
        self._worker.start()
        RoutingSpanProcessor.instances.add(self)

    # -- the application's thread: cheap ----------------------------------------------------------

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if self._runner() is None:
            return
        try:
            trace_id = span.context.trace_id
            parent = span.parent
            overflow = None
            with self._lock:
                entry = self._open.get(trace_id)
                if entry is None:
                    entry = self._open[trace_id] = (time.monotonic(), [])
                    if len(self._open) > self._max_traces:
                        overflow = self._open.popitem(last=False)
                if len(entry[1]) < self._max_spans:
                    entry[1].append(span)
                done = self._open.pop(trace_id) if parent is None or parent.is_remote else None
            if overflow is not None:
                self._submit(("trace", overflow[1][1]))
            if done is not None:
                self._submit(("trace", done[1]))
        except Exception as exc:
            report_internal_error("buffering a span for routing", exc)

    def annotation_added(self, annotation: Any) -> None:
        """An annotation was made: re-route its trace with it (called from `llmtap.annotate`). One by join key
        that no span of this process resolved is routed with the stored trace that key names, if any."""
        if getattr(annotation.target, "trace_id", None) or getattr(annotation.target, "join", None):
            self._submit(("annotation", annotation))

    def _submit(self, item: Any) -> None:
        with self._done:
            self._pending += 1
        self._work.put(item)

    # -- the worker thread ------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            try:
                item = self._work.get(timeout=min(self._timeout_s, 1.0))
            except queue.Empty:
                self._expire()
                continue
            if item is _STOP:
                return
            try:
                if item[0] == "trace":
                    self._route(item[1])
                else:
                    self._reroute(item[1])
            except Exception as exc:
                report_internal_error("routing a trace", exc)
            finally:
                with self._done:
                    self._pending -= 1
                    self._done.notify_all()
            if self._work.empty():
                self._expire()

    def _expire(self) -> None:
        cutoff = time.monotonic() - self._timeout_s
        expired = []
        with self._lock:
            for trace_id, (first_seen, spans) in list(self._open.items()):
                if first_seen > cutoff:
                    break
                expired.append(spans)
                del self._open[trace_id]
        for spans in expired:
            try:
                self._route(spans)
            except Exception as exc:
                report_internal_error("routing a trace", exc)

    def _route(self, spans: Sequence[ReadableSpan]) -> None:
        runner = self._runner()
        if not spans or runner is None:
            return
        facts = [facts_of_sdk(span) for span in spans]
        trace_id = facts[0].trace_id
        self._routed[trace_id] = list(spans)
        while len(self._routed) > self._keep_routed:
            dropped, _ = self._routed.popitem(last=False)
            self._annotations.pop(dropped, None)
        runner.run(facts, self._known_annotations(runner, trace_id, spans), sdk_spans=spans)

    def _reroute(self, annotation: Any) -> None:
        runner = self._runner()
        if runner is None:
            return
        trace_id = annotation.target.trace_id or self._joined_trace(runner, annotation.target.join)
        if trace_id is None:
            return  # a join key no stored span has yet: the store keeps it pending
        self._annotations.setdefault(trace_id, []).append(annotation)
        spans = self._routed.get(trace_id)
        known = self._known_annotations(runner, trace_id)
        if spans is not None:
            runner.run([facts_of_sdk(span) for span in spans], known, sdk_spans=spans)
            return
        store = runner.store
        if store is None:
            return
        try:
            detail = store.get_trace(trace_id)
        except LookupError:
            return  # not stored (yet): routed with the annotation when its root ends, if it is open here
        runner.run([facts_of_stored(span) for span in detail.spans], known)

    @staticmethod
    def _joined_trace(runner: Runner, join: Any) -> str | None:
        """The stored trace whose span carries the join key's label value."""
        if join is None or runner.store is None:
            return None
        try:
            found = runner.store.join_target(join.label, join.value)
        except Exception as exc:
            report_internal_error("finding the span of a join key for routing", exc)
            return None
        return found[0] if found is not None else None

    def _known_annotations(self, runner: Runner, trace_id: str, spans: Sequence[ReadableSpan] = ()) -> list[Any]:
        """The trace's annotations: those in the store, those made in this process (not yet stored), and those
        the store keeps pending for a join key one of `spans` carries (the store links them once it has the
        spans, which may be after this trace is routed)."""
        seen = {}
        store = runner.store
        if store is not None:
            try:
                for item in store.annotations(trace_id):
                    seen[item.annotation_id] = item
                if spans and runner.needs.names & {"annotations", "annotation_history"}:
                    for item in store.pending_for(_join_keys(spans)):
                        seen.setdefault(item.annotation_id, item)
            except Exception as exc:
                report_internal_error("reading annotations for routing", exc)
        for item in self._annotations.get(trace_id, ()):
            seen.setdefault(item.id, item)
        return annotation_facts(seen.values())

    # -- lifecycle --------------------------------------------------------------------------------

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Route what is queued now (open traces stay open)."""
        if not self._worker.is_alive():
            return True
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0, timeout_millis / 1000)

    def shutdown(self) -> None:
        with self._lock:
            remaining = [spans for _, spans in self._open.values()]
            self._open.clear()
        for spans in remaining:
            self._submit(("trace", spans))
        self._work.put(_STOP)
        self._worker.join(timeout=10)
        RoutingSpanProcessor.instances.discard(self)


def _join_keys(spans: Sequence[ReadableSpan]) -> list[tuple[str, str]]:
    """The (label, value) pairs the spans carry, as join keys name them."""
    from llmtap.store.convert import label_text

    prefix = "llmtap.tag."
    return [
        (key[len(prefix) :], label_text(value))
        for span in spans
        for key, value in (span.attributes or {}).items()
        if key.startswith(prefix)
    ]
