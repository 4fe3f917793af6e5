"""Baggage round trip: two in-process services talking real HTTP with W3C headers."""

from __future__ import annotations

import urllib.request

from opentelemetry import context as otel_context
from opentelemetry import propagate

import llmtap
from tests.labels.conftest import Setup, tag_attributes
from tests.support.loopback import LoopbackAPI, Reply, Request


def test_downstream_spans_carry_the_upstream_propagated_labels(labelled: Setup, api: LoopbackAPI) -> None:
    telemetry = labelled()
    tracer = telemetry.tracer_provider.get_tracer("web")
    seen: dict[str, object] = {}

    def downstream(request: Request) -> Reply:  # service B: extract the incoming context, like a web framework
        token = otel_context.attach(propagate.extract(request.headers))
        try:
            with tracer.start_as_current_span("POST /score"):
                seen["tags"] = llmtap.current_tags()
        finally:
            otel_context.detach(token)
        return Reply(body={"ok": True})

    api.route("POST", "/score", downstream)
    with llmtap.tags(user_id="u-42", user_segment="pro", app_feature="upstream-only"):
        with tracer.start_as_current_span("call B"):
            headers = {"content-type": "application/json"}
            propagate.inject(headers)
            request = urllib.request.Request(f"{api.base_url}/score", data=b"{}", headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200

    (received,) = api.requests
    assert sorted(received.headers["baggage"].split(",")) == ["user_id=u-42", "user_segment=pro"]
    assert seen["tags"] == {"user_id": "u-42", "user_segment": "pro"}
    server_span, client_span = telemetry.spans()
    assert server_span.name == "POST /score"
    assert server_span.context.trace_id == client_span.context.trace_id
    assert server_span.parent.span_id == client_span.context.span_id
    assert tag_attributes(server_span) == {
        "llmtap.tag.user_id": "u-42",
        "user.id": "u-42",
        "llmtap.tag.user_segment": "pro",
    }
    assert tag_attributes(client_span) == {
        "llmtap.tag.user_id": "u-42",
        "user.id": "u-42",
        "llmtap.tag.user_segment": "pro",
        "llmtap.tag.app_feature": "upstream-only",
    }


def test_bad_incoming_baggage_never_raises_in_strict_mode_and_is_dropped(labelled: Setup) -> None:
    telemetry = labelled(mode="strict")
    token = otel_context.attach(propagate.extract({"baggage": "user_segment=enterprise,user_id=u7"}))
    try:
        telemetry.tracer_provider.get_tracer("web").start_span("handler").end()
    finally:
        otel_context.detach(token)
    (span,) = telemetry.spans()
    assert tag_attributes(span) == {"llmtap.tag.user_id": "u7", "user.id": "u7"}
    assert llmtap.labels.dropped_counts() == {"user_segment": 1}
