"""Running the rules on a trace and carrying out what they select: queues, datasets, tags, exporters.

The runner works on facts (`variables.SpanFacts`), whatever they came from: the spans of a trace that
just ended in this process (`processor.RoutingSpanProcessor`), or a trace read back from the store
(`llmtap routes test/run`). Queue, dataset and tag actions write to the local store; exporter actions
send the trace's spans to the named exporter, at most once per trace (recorded in the store, or in memory
when there is none).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmtap.routing import engine, exporters, flatten, references, variables
from llmtap.routing.rules import Rule
from llmtap.routing.variables import AnnotationFacts, SpanFacts

logger = logging.getLogger("llmtap")
_MEMORY_DELIVERIES = 100_000  # exporter deliveries remembered without a store


@dataclass
class RunResult:
    trace_id: str
    outcomes: list[engine.Outcome]
    done: list[str] = field(default_factory=list)  # actions carried out now ("queue:review", ...)
    skipped: list[str] = field(default_factory=list)  # selected but already done earlier

    @property
    def selected(self) -> list[engine.Outcome]:
        return [outcome for outcome in self.outcomes if outcome.selected]


def facts_of_stored(span: Any) -> SpanFacts:
    """A store `StoredSpan` as routing facts."""
    return SpanFacts(
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        name=span.name,
        kind=span.kind,
        start_ns=span.start_time_ns,
        end_ns=span.end_time_ns,
        status=span.status_code,
        attributes=span.attributes,
    )


def facts_of_sdk(span: Any) -> SpanFacts:
    """An SDK `ReadableSpan` as routing facts."""
    parent = span.parent
    return SpanFacts(
        trace_id=format(span.context.trace_id, "032x"),
        span_id=format(span.context.span_id, "016x"),
        parent_span_id=format(parent.span_id, "016x") if parent is not None else None,
        name=span.name,
        kind=span.kind.name,
        start_ns=span.start_time or 0,
        end_ns=span.end_time or 0,
        status=span.status.status_code.name,
        attributes=dict(span.attributes or {}),
        remote_parent=bool(parent is not None and parent.is_remote),
    )


def annotation_facts(annotations: Iterable[Any]) -> list[AnnotationFacts]:
    """Store `StoredAnnotation`s or `llmtap.Annotation`s as routing facts."""
    facts = []
    for item in annotations:
        time_ns = getattr(item, "time_ns", None)
        if time_ns is None:
            created = getattr(item, "created_at", None)
            time_ns = int(created.timestamp() * 1e9) if created is not None else 0
        facts.append(AnnotationFacts(item.name, item.value, time_ns))
    return facts


class _Undo(Exception):
    """Raised to roll back a dry run's transaction."""


class Runner:
    """Rules plus what carries out their actions. Thread-safe."""

    def __init__(
        self,
        rules: Sequence[Rule],
        exporter_specs: Mapping[str, exporters.ExporterSpec] | None = None,
        store: Any = None,
    ) -> None:
        self.rules = list(rules)
        # What the enabled rules can read: only that is built for each trace (`references`).
        self.needs = references.combine(rule.needs for rule in self.rules if rule.enabled)
        # The conditions as evaluated here: reading small flat variables (`flatten`), computed from the built ones.
        self._programs = [rule.program if rule.flat is None else rule.flat for rule in self.rules]
        self._binder = flatten.Binder(
            (
                name
                for rule, program in zip(self.rules, self._programs, strict=True)
                if rule.enabled
                for name in program.variables()
            ),
            self.needs,
        )
        self._batch = engine.Batch(self.rules, self._programs)
        self._evaluating = threading.Lock()
        self._specs = dict(exporter_specs or {})
        self._exporters: dict[str, Any] = {}
        self.store = store
        self._lock = threading.Lock()
        self._delivered: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._warned: set[str] = set()

    @property
    def exporter_specs(self) -> dict[str, exporters.ExporterSpec]:
        """The named exporters the rules may send traces to, by name."""
        return dict(self._specs)

    def outcomes(self, spans: Sequence[SpanFacts], annotations: Sequence[AnnotationFacts] = ()) -> list[engine.Outcome]:
        """Each rule's outcome on the trace; disabled rules are not evaluated (never matched, never selected)."""
        trace_id = spans[0].trace_id if spans else ""
        view = variables.TraceView(spans, annotations, self._binder.together)
        with self._evaluating:
            binder = self._binder
            return self._batch.run(binder.context(view), trace_id, binder.changed)

    def forget(self) -> None:
        """Drop what is kept from the previous trace (the CEL context, the span projections): the next
        trace is handed to CEL whole (the benchmark's "fresh" cost)."""
        with self._evaluating:
            self._binder.forget()

    def variables(self, spans: Sequence[SpanFacts], annotations: Sequence[AnnotationFacts] = ()) -> dict[str, Any]:
        """The CEL variables the rules are evaluated on for this trace (`flatten`), as Python values."""
        with self._evaluating:
            return self._binder.bind(variables.TraceView(spans, annotations), reuse=False)[0]

    def run(
        self,
        spans: Sequence[SpanFacts],
        annotations: Sequence[AnnotationFacts] = (),
        *,
        sdk_spans: Sequence[Any] | None = None,
        dry_run: bool = False,
    ) -> RunResult:
        """Evaluate every rule on the trace of `spans` and (unless `dry_run`) carry out the selected actions.

        `sdk_spans` are the trace's SDK spans for exporter actions; without them the trace is not exported.
        """
        trace_id = spans[0].trace_id if spans else ""
        result = RunResult(trace_id, self.outcomes(spans, annotations))
        self._carry_out(result, sdk_spans, dry_run)
        return result

    def run_many(
        self, traces: Iterable[tuple[Sequence[SpanFacts], Sequence[AnnotationFacts]]], *, dry_run: bool = False
    ) -> list[RunResult]:
        """`run` on many stored traces (a back-fill page): every rule evaluated first, then all the selected
        actions carried out in one store transaction (`Store.batch`) rather than one per action."""
        results = [
            RunResult(spans[0].trace_id if spans else "", self.outcomes(spans, annotations))
            for spans, annotations in traces
        ]
        batch = getattr(self.store, "batch", None)
        if batch is None or not any(result.selected for result in results):
            for result in results:
                self._carry_out(result, None, dry_run)
            return results
        if dry_run:
            # What a run would do, found by doing it in a transaction that is then undone, so that the actions
            # done before show as such ("already done"), not as to do.
            try:
                with batch():
                    for result in results:
                        self._carry_out(result, None, False)
                    raise _Undo
            except _Undo:
                return results
            except Exception:  # e.g. a store this user cannot write: every selected action counted as to do
                for result in results:
                    result.done.clear()
                    result.skipped.clear()
                    self._carry_out(result, None, True)
                return results
        with batch():
            for result in results:
                self._carry_out(result, None, dry_run)
        return results

    def _carry_out(self, result: RunResult, sdk_spans: Sequence[Any] | None, dry_run: bool) -> None:
        trace_id = result.trace_id
        for outcome in result.selected:
            for action in outcome.actions:
                label = str(action)
                if dry_run:
                    result.done.append(label)
                    continue
                try:
                    did = self._apply(action, outcome.rule, trace_id, sdk_spans)
                except Exception as exc:
                    rule = outcome.rule.name
                    self._warn_once(label, f"llmtap: routing action {label} of rule {rule!r} failed: {exc}")
                    continue
                if did is None:
                    continue
                (result.done if did else result.skipped).append(label)

    def _apply(self, action: Any, rule: Rule, trace_id: str, sdk_spans: Sequence[Any] | None) -> bool | None:
        """True: done now; False: done before; None: cannot be done here (logged once)."""
        store = self.store
        if action.kind == "exporter":
            if not sdk_spans:
                return None
            if not self._first_delivery(f"exporter:{action.target}", trace_id, rule.name):
                return False
            self._exporter(action.target).export(list(sdk_spans))
            return True
        if store is None:
            self._warn_once(
                action.kind, f"llmtap: routing action {action} needs the local store (LLMTAP_STORE is off); skipped"
            )
            return None
        if action.kind == "queue":
            return store.enqueue(action.target, trace_id, rule=rule.name)
        if action.kind == "dataset":
            return store.add_to_dataset(action.target, trace_id, data={"rule": rule.name})
        if not store.record_delivery(f"tag:{action.target}", trace_id, rule.name):
            return False
        labels = {action.target: action.value or ""}
        if not store.tag_trace(trace_id, labels) and sdk_spans:
            # A trace that has just ended here: its spans may still be on their way to the store (its batch
            # processor), and the tag needs the stored trace.
            from llmtap.store import wiring

            wiring.flush()
            if not store.tag_trace(trace_id, labels):
                self._warn_once(str(action), f"llmtap: routing action {action}: trace {trace_id} is not stored")
        return True

    def _first_delivery(self, target: str, trace_id: str, rule: str) -> bool:
        if self.store is not None:
            return self.store.record_delivery(target, trace_id, rule)
        key = (target, trace_id)
        with self._lock:
            if key in self._delivered:
                return False
            self._delivered[key] = None
            if len(self._delivered) > _MEMORY_DELIVERIES:
                self._delivered.popitem(last=False)
        return True

    def _exporter(self, name: str) -> Any:
        with self._lock:
            found = self._exporters.get(name)
            if found is None:
                found = self._exporters[name] = exporters.build(self._specs[name])
            return found

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message)

    def shutdown(self) -> None:
        with self._lock:
            built, self._exporters = list(self._exporters.values()), {}
        for exporter in built:
            try:
                exporter.shutdown()
            except Exception as exc:
                logger.warning("llmtap: shutting down a routing exporter failed: %s", exc)
