"""Issue 8 §2: a setting given in code stays until code changes it (a bare `instrument()` changes nothing)."""

from __future__ import annotations

import pytest
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

import llmtap
from llmtap.instrumentation import _instrumented
from tests.safety.support import openai_client, serve_chat
from tests.support.loopback import LoopbackAPI
from tests.support.telemetry import Telemetry, attribute_json

QUESTION = [{"role": "user", "content": "Where is Paris?"}]


def _call(api: LoopbackAPI) -> None:
    openai_client(api).chat.completions.create(model="gpt-4o-mini", messages=QUESTION)


def _last_span_has_content(telemetry: Telemetry) -> bool:
    return gen_ai.GEN_AI_INPUT_MESSAGES in telemetry.genai_spans()[-1].attributes


def test_capture_off_in_code_survives_a_bare_instrument(
    fresh: Telemetry, api: LoopbackAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_chat(api)
    llmtap.instrument(
        tracer_provider=fresh.tracer_provider, meter_provider=fresh.meter_provider, config={}, capture_content=False
    )
    llmtap.instrument()  # e.g. a library making sure llmtap is on
    monkeypatch.setenv("LLMTAP_CAPTURE_CONTENT", "true")  # the environment does not override code either
    llmtap.instrument()
    _call(api)
    assert not _last_span_has_content(fresh)

    llmtap.instrument(capture_content=True)  # code changes it explicitly
    _call(api)
    assert attribute_json(fresh.genai_spans()[-1], gen_ai.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "Where is Paris?"}]}
    ]
    llmtap.instrument()
    _call(api)
    assert _last_span_has_content(fresh)
    assert len(fresh.genai_spans()) == 3  # the provider given first is kept too


def test_config_given_in_code_survives_a_bare_instrument(fresh: Telemetry, api: LoopbackAPI) -> None:
    serve_chat(api)
    llmtap.instrument(
        tracer_provider=fresh.tracer_provider, meter_provider=fresh.meter_provider, config={"max_content_chars": 5}
    )
    llmtap.instrument()
    _call(api)
    span = fresh.only_span()
    assert attribute_json(span, gen_ai.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "Where"}]}
    ]
    assert span.attributes["llmtap.truncated.gen_ai.input.messages"] == len("Where is Paris?") - 5


def test_providers_given_in_code_survive_a_bare_instrument(fresh: Telemetry) -> None:
    llmtap.instrument(
        providers=iter(["openai"]), tracer_provider=fresh.tracer_provider, meter_provider=fresh.meter_provider
    )
    llmtap.instrument()
    assert sorted(_instrumented) == ["openai"]
    llmtap.instrument(providers=["openai", "anthropic"])
    assert sorted(_instrumented) == ["anthropic", "openai"]


def test_uninstrument_forgets_what_code_gave(fresh: Telemetry, api: LoopbackAPI) -> None:
    serve_chat(api)
    llmtap.instrument(
        tracer_provider=fresh.tracer_provider, meter_provider=fresh.meter_provider, config={}, capture_content=False
    )
    llmtap.uninstrument()
    llmtap.instrument(tracer_provider=fresh.tracer_provider, meter_provider=fresh.meter_provider, config={})
    _call(api)
    assert _last_span_has_content(fresh)
