"""Baggage round trip: two in-process services talking real HTTP with W3C headers."""

from __future__ import annotations

import urllib.request

from opentelemetry import baggage, propagate
from opentelemetry import context as otel_context

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


def _outgoing_baggage() -> list[str]:
    """The `baggage` header the configured propagator would send now."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return sorted(headers["baggage"].split(",")) if "baggage" in headers else []


def test_incoming_baggage_wins_over_a_local_tags_block_and_goes_downstream(labelled: Setup) -> None:
    telemetry = labelled(tags="user_segment=free")
    tracer = telemetry.tracer_provider.get_tracer("web")
    incoming = propagate.extract(
        {"baggage": "user_id=upstream", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    )
    token = otel_context.attach(incoming)
    try:
        with llmtap.tags(user_id="local", user_segment="pro", app_feature="qa"):
            assert llmtap.current_tags() == {"user_id": "upstream", "user_segment": "pro", "app_feature": "qa"}
            # user_id is upstream's; user_segment, absent upstream, is set by tags() and propagated
            assert _outgoing_baggage() == ["user_id=upstream", "user_segment=pro"]
            tracer.start_span("handler").end()
        assert _outgoing_baggage() == ["user_id=upstream"]
        assert llmtap.current_tags() == {"user_id": "upstream", "user_segment": "free"}
    finally:
        otel_context.detach(token)
    (span,) = telemetry.spans()
    assert tag_attributes(span) == {
        "llmtap.tag.user_segment": "pro",
        "llmtap.tag.user_id": "upstream",
        "user.id": "upstream",
        "llmtap.tag.app_feature": "qa",
    }


def test_baggage_set_by_an_outer_tags_block_is_local_not_incoming(labelled: Setup) -> None:
    telemetry = labelled()
    tracer = telemetry.tracer_provider.get_tracer("web")
    with llmtap.tags(user_id="outer", user_segment="free"):
        with llmtap.tags(user_id="inner"):
            assert llmtap.current_tags() == {"user_id": "inner", "user_segment": "free"}
            assert _outgoing_baggage() == ["user_id=inner", "user_segment=free"]
            tracer.start_span("inner").end()
        assert llmtap.current_tags() == {"user_id": "outer", "user_segment": "free"}
        assert _outgoing_baggage() == ["user_id=outer", "user_segment=free"]
        tracer.start_span("outer").end()
        # an entry put into the current baggage by someone else since (not the value llmtap set) is incoming
        token = otel_context.attach(baggage.set_baggage("user_id", "upstream"))
        try:
            with llmtap.tags(user_id="innermost"):
                assert llmtap.current_tags() == {"user_id": "upstream", "user_segment": "free"}
                assert _outgoing_baggage() == ["user_id=upstream", "user_segment=free"]
        finally:
            otel_context.detach(token)
    assert _outgoing_baggage() == []
    assert [tag_attributes(span) for span in telemetry.spans()] == [
        {"llmtap.tag.user_id": "inner", "user.id": "inner", "llmtap.tag.user_segment": "free"},
        {"llmtap.tag.user_id": "outer", "user.id": "outer", "llmtap.tag.user_segment": "free"},
    ]


def test_an_upstream_value_equal_to_the_local_one_stays_upstream(labelled: Setup) -> None:
    labelled()
    token = otel_context.attach(propagate.extract({"baggage": "user_id=u1"}))
    try:
        with llmtap.tags(user_id="u1"):
            with llmtap.tags(user_id="u2"):  # still upstream's entry: not replaced
                assert llmtap.current_tags() == {"user_id": "u1"}
                assert _outgoing_baggage() == ["user_id=u1"]
    finally:
        otel_context.detach(token)
