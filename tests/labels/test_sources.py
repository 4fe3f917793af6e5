"""Labels from LLMTAP_TAGS, tags() blocks and decorators, and their precedence."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import baggage
from opentelemetry import context as otel_context

import llmtap
from tests.labels.conftest import Setup, tag_attributes


def test_env_tags_on_every_span_including_non_llm_spans(labelled: Setup) -> None:
    telemetry = labelled(tags="app_feature=search,retries=2")
    with telemetry.tracer_provider.get_tracer("web").start_as_current_span("GET /search"):
        pass
    (span,) = telemetry.spans()
    assert tag_attributes(span) == {"llmtap.tag.app_feature": "search", "llmtap.tag.retries": 2}


def test_tags_nest_merge_and_restore(labelled: Setup) -> None:
    telemetry = labelled(tags="app_feature=search")
    tracer = telemetry.tracer_provider.get_tracer("web")
    with llmtap.tags(user_id="u1", feature_flag="new-rag"):
        with llmtap.tags(feature_flag="old-rag", session_id="s1"):
            assert llmtap.current_tags() == {
                "app_feature": "search",
                "user_id": "u1",
                "feature_flag": "old-rag",
                "session_id": "s1",
            }
            tracer.start_span("inner").end()
        assert llmtap.current_tags() == {"app_feature": "search", "user_id": "u1", "feature_flag": "new-rag"}
        tracer.start_span("outer").end()
    assert llmtap.current_tags() == {"app_feature": "search"}
    tracer.start_span("after").end()
    inner, outer, after = telemetry.spans()
    assert tag_attributes(inner) == {
        "llmtap.tag.app_feature": "search",
        "llmtap.tag.user_id": "u1",
        "user.id": "u1",
        "llmtap.tag.feature_flag": "old-rag",
        "llmtap.tag.session_id": "s1",
        "session.id": "s1",
    }
    assert tag_attributes(outer) == {
        "llmtap.tag.app_feature": "search",
        "llmtap.tag.user_id": "u1",
        "user.id": "u1",
        "llmtap.tag.feature_flag": "new-rag",
    }
    assert tag_attributes(after) == {"llmtap.tag.app_feature": "search"}


def test_context_tags_override_env_tags(labelled: Setup) -> None:
    labelled(tags="app_feature=search,user_segment=free")
    with llmtap.tags(app_feature="chat"):
        assert llmtap.current_tags() == {"app_feature": "chat", "user_segment": "free"}


def test_incoming_baggage_wins_over_context_for_propagated_labels(labelled: Setup) -> None:
    telemetry = labelled(tags="user_segment=free")
    with llmtap.tags(user_segment="free", app_feature="chat", user_id="local"):
        ctx = baggage.set_baggage("user_segment", "pro")
        ctx = baggage.set_baggage("app_feature", "from-upstream", ctx)  # not propagate=true: ignored
        token = otel_context.attach(ctx)
        try:
            assert llmtap.current_tags() == {"user_segment": "pro", "app_feature": "chat", "user_id": "local"}
            telemetry.tracer_provider.get_tracer("web").start_span("handler").end()
        finally:
            otel_context.detach(token)
    (span,) = telemetry.spans()
    assert tag_attributes(span) == {
        "llmtap.tag.user_segment": "pro",
        "llmtap.tag.app_feature": "chat",
        "llmtap.tag.user_id": "local",
        "user.id": "local",
    }


def test_labels_restored_when_an_exception_leaves_the_block(labelled: Setup) -> None:
    labelled()
    with pytest.raises(KeyError, match="boom"):
        with llmtap.tags(user_id="u1"):
            raise KeyError("boom")
    assert llmtap.current_tags() == {}
    assert baggage.get_all() == {}


def test_decorator_on_sync_function_and_exception(labelled: Setup) -> None:
    labelled()

    @llmtap.tags(app_feature="summary")
    def work(fail: bool) -> dict:
        if fail:
            raise RuntimeError("bad input")
        return llmtap.current_tags()

    assert work(False) == {"app_feature": "summary"}
    with pytest.raises(RuntimeError, match="bad input"):
        work(True)
    assert llmtap.current_tags() == {}


async def test_decorator_on_async_function(labelled: Setup) -> None:
    labelled()

    @llmtap.tags(app_feature="summary")
    async def work() -> dict:
        await asyncio.sleep(0)
        return llmtap.current_tags()

    assert await work() == {"app_feature": "summary"}
    assert llmtap.current_tags() == {}


def test_decorator_on_generator_applies_only_inside_its_steps(labelled: Setup) -> None:
    labelled()

    @llmtap.tags(app_feature="stream")
    def produce():
        for index in range(2):
            yield index, llmtap.current_tags()

    seen = []
    with llmtap.tags(user_id="u1"):
        for index, inside in produce():
            seen.append((index, inside, llmtap.current_tags()))
    assert seen == [
        (0, {"user_id": "u1", "app_feature": "stream"}, {"user_id": "u1"}),
        (1, {"user_id": "u1", "app_feature": "stream"}, {"user_id": "u1"}),
    ]


async def test_decorator_on_async_generator(labelled: Setup) -> None:
    labelled()

    @llmtap.tags(app_feature="stream")
    async def produce():
        yield llmtap.current_tags()
        yield llmtap.current_tags()

    assert [item async for item in produce()] == [{"app_feature": "stream"}, {"app_feature": "stream"}]
    assert llmtap.current_tags() == {}


def test_generator_closed_early_and_exception_thrown_in(labelled: Setup) -> None:
    labelled()

    @llmtap.tags(app_feature="stream")
    def produce():
        try:
            yield 1
            yield 2
        except ValueError:
            yield llmtap.current_tags()

    stream = produce()
    assert next(stream) == 1
    assert stream.throw(ValueError("x")) == {"app_feature": "stream"}
    stream.close()
    assert llmtap.current_tags() == {}


def test_without_llmtap_configured_labels_are_kept_as_given_and_not_stamped(telemetry) -> None:
    with llmtap.tags(anything=1, user_id="u1"):
        assert llmtap.current_tags() == {"anything": 1, "user_id": "u1"}
        telemetry.tracer_provider.get_tracer("web").start_span("plain").end()
    (span,) = telemetry.spans()
    assert dict(span.attributes) == {}
