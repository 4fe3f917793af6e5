"""Routing end to end: an instrumented app's traces, through the real openai SDK over loopback, are routed
when their root span ends (and again when an annotation arrives) into queues, datasets, tags and a named
OTLP/HTTP exporter; sampling is deterministic across processes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import llmtap
from llmtap.routing import sampled
from tests.routing.conftest import Start
from tests.support.loopback import LoopbackAPI, Reply

ERRORS_TO_REVIEW = {"name": "errors", "when": "trace.error", "actions": ["queue:review", "tag:triage=needed"]}
BAD_TO_REVIEW = {"name": "thumbs-down", "when": 'annotations.human_feedback == "bad"', "actions": ["queue:review"]}
SLOW_CHECKOUT = {
    "name": "checkout-calls",
    "when": 'labels.feature == "checkout" && spans.exists(s, s.operation == "chat" && s.model != "")',
    "actions": ["dataset:checkout"],
}


def _wait_routed(app: Any, queue: str, count: int) -> list[tuple[str, str, str | None]]:
    """Routing runs on its own thread: wait (bounded) for `count` items in `queue`."""
    deadline = time.monotonic() + 10
    store = app.store()
    try:
        while True:
            items = store.queue_item_traces(queue)
            if len(items) >= count or time.monotonic() > deadline:
                return items
            time.sleep(0.02)
    finally:
        store.close()


def _flush_routing() -> None:
    from llmtap.routing.processor import RoutingSpanProcessor

    for processor in list(RoutingSpanProcessor.instances):
        assert processor.force_flush(10_000)


def test_errored_trace_goes_to_the_queue_once_and_is_tagged(routed: Start) -> None:
    app = routed([ERRORS_TO_REVIEW, SLOW_CHECKOUT])
    ok = app.answer("search")
    failed = app.answer("checkout", fail=True)
    also_ok = app.answer("checkout")
    _flush_routing()
    store = app.store()
    try:
        assert store.queue_item_traces("review") == [(failed.trace_id, "pending", "errors")]
        assert [trace_id for trace_id, _, _ in store.dataset_items("checkout")] == [failed.trace_id, also_ok.trace_id]
        assert store.get_trace(failed.trace_id).summary.labels["triage"] == "needed"
        assert "triage" not in store.get_trace(ok.trace_id).summary.labels
        # Evaluated again (another process, a re-run): nothing enters twice.
        assert store.enqueue("review", failed.trace_id, rule="errors") is False
    finally:
        store.close()


def test_an_annotation_arriving_later_routes_the_trace_again(routed: Start) -> None:
    app = routed([BAD_TO_REVIEW])
    good = app.answer()
    bad = app.answer()
    _flush_routing()
    assert _wait_routed(app, "review", 0) == []
    llmtap.annotate(bad.trace_id, "human_feedback", "bad", annotator_kind="end_user")
    llmtap.annotate(good.trace_id, "human_feedback", "good", annotator_kind="end_user")
    _flush_routing()
    assert _wait_routed(app, "review", 1) == [(bad.trace_id, "pending", "thumbs-down")]


def test_an_annotation_by_join_key_routes_the_stored_trace_it_names(routed: Start) -> None:
    # Feedback from a front end that knows only its own key, after the trace ended (as from another process):
    # the key matches no open span here; the store names the trace, which is routed again with the annotation.
    app = routed([BAD_TO_REVIEW])
    app.answer("search")
    checkout = app.answer("checkout")
    _flush_routing()
    assert _wait_routed(app, "review", 0) == []
    annotation = llmtap.annotate(
        {"join": {"label": "feature", "value": "checkout"}}, "human_feedback", "bad", annotator_kind="end_user"
    )
    assert annotation.target.trace_id is None  # not resolved in the process
    _flush_routing()
    assert _wait_routed(app, "review", 1) == [(checkout.trace_id, "pending", "thumbs-down")]


def _received_trace_ids(api: LoopbackAPI) -> dict[str, set[str]]:
    """Span names by trace id, of every OTLP/HTTP export request the receiver got."""
    traces: dict[str, set[str]] = {}
    for request in api.requests:
        if request.path != "/v1/traces":
            continue
        message = ExportTraceServiceRequest.FromString(request.raw)
        for resource_spans in message.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    traces.setdefault(span.trace_id.hex(), set()).add(span.name)
    return traces


def test_named_exporter_receives_exactly_the_selected_traces_over_otlp_http(routed: Start) -> None:
    receiver = LoopbackAPI()
    with receiver:
        receiver.route("POST", "/v1/traces", Reply(body={}))
        app = routed(
            [{"name": "errors-to-vendor", "when": "trace.error", "actions": ["exporter:vendor"]}],
            exporters={
                "vendor": {
                    "type": "otlp",
                    "endpoint": f"{receiver.base_url}/v1/traces",
                    "headers": {"x-api-key": "k-123"},
                }
            },
        )
        app.answer()
        failed = app.answer(fail=True)
        app.answer()
        _flush_routing()
        assert _received_trace_ids(receiver) == {failed.trace_id: {"invoke_workflow answer", "chat gpt-4o-mini"}}
        assert {request.headers["x-api-key"] for request in receiver.requests} == {"k-123"}


def test_file_exporter_writes_the_whole_trace(routed: Start, tmp_path: Any) -> None:
    path = tmp_path / "selected.jsonl"
    app = routed(
        [{"name": "all", "when": "true", "actions": ["exporter:archive"]}],
        exporters={"archive": {"type": "file", "path": str(path)}},
    )
    ref = app.answer()
    _flush_routing()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(line["name"] for line in lines) == ["chat gpt-4o-mini", "invoke_workflow answer"]
    assert {line["context"]["trace_id"] for line in lines} == {f"0x{ref.trace_id}"}


_SAMPLE_IN_ANOTHER_PROCESS = """
import json, sys
from llmtap.routing import sampled
ids = json.load(sys.stdin)
print(json.dumps([sampled("r", trace_id, 0.3) for trace_id in ids]))
"""


def test_sampling_is_deterministic_by_trace_id_across_processes() -> None:
    ids = [f"{n:032x}" for n in range(0, 2000 * 7919, 7919)]
    here = [sampled("r", trace_id, 0.3) for trace_id in ids]
    there = subprocess.run(
        [sys.executable, "-c", _SAMPLE_IN_ANOTHER_PROCESS],
        input=json.dumps(ids),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(there.stdout) == here
    assert 0.26 < sum(here) / len(here) < 0.34
    assert [sampled("r", trace_id, 1.0) for trace_id in ids[:5]] == [True] * 5
    assert [sampled("r", trace_id, 0.0) for trace_id in ids[:5]] == [False] * 5


_NO_ROUTES = """
import sys
import llmtap
llmtap.instrument(config={})
assert "llmtap.routing" not in sys.modules and "cel" not in sys.modules, sorted(sys.modules)
print("ok")
"""


def test_without_routes_routing_is_never_imported(tmp_path: Any) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _NO_ROUTES], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_conditions_see_the_cost_of_the_trace(routed: Start) -> None:
    when = "trace.cost > 0.0 && spans.exists(s, s.cost > 0.0)"
    rule = {"name": "priced", "when": when, "actions": ["dataset:priced"]}
    app = routed([rule])
    priced = app.answer()
    app.answer(fail=True)  # a failed call has no cost
    _flush_routing()
    store = app.store()
    try:
        assert [trace_id for trace_id, _, _ in store.dataset_items("priced")] == [priced.trace_id]
    finally:
        store.close()
