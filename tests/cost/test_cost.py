"""Cost of model calls through the real SDKs over the loopback API: the `llmtap.usage.cost` attribute,
its source, the `llmtap.client.cost` metric, overrides, and no cost where none is known.

Expected values come from the genai-prices package's own `calc_price`, never typed in by hand.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from typing import Any

import pytest

import anthropic
import llmtap
import openai
from llmtap.errors import ConfigError
from tests.support import anthropic_wire, openai_wire
from tests.support.cost import SOURCE, package_price
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture
def instrument(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("LLMTAP_CAPTURE_CONTENT", "LLMTAP_CONFIG", "LLMTAP_ENABLED", "OTEL_SDK_DISABLED", "LLMTAP_TAGS"):
        monkeypatch.delenv(name, raising=False)

    def start(config: dict[str, Any] | None = None) -> Telemetry:
        llmtap.instrument(
            tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, config=config or {}
        )
        return telemetry

    yield start
    llmtap.uninstrument()


def _openai(api: LoopbackAPI) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test-cost", base_url=api.base_url + "/v1", max_retries=0)


def _anthropic(api: LoopbackAPI) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test-cost", base_url=api.base_url, max_retries=0)


def _chat_usage(prompt: int, completion: int, *, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    usage = openai_wire.chat_usage(prompt, completion, cached)
    usage["completion_tokens_details"]["reasoning_tokens"] = reasoning
    return usage


def _cost(span: Any) -> tuple[Any, Any]:
    return span.attributes.get("llmtap.usage.cost"), span.attributes.get("llmtap.usage.cost_source")


@pytest.mark.parametrize(
    ("model", "prompt", "completion", "cached", "reasoning"),
    [
        ("gpt-4o-mini-2024-07-18", 1200, 340, 0, 0),
        ("gpt-4o-mini-2024-07-18", 3000, 120, 2048, 0),
        ("gpt-4.1-2025-04-14", 52_000, 900, 51_200, 0),
        ("o4-mini-2025-04-16", 800, 2600, 0, 2048),
        ("gpt-5-mini-2025-08-07", 4000, 1500, 1024, 1024),
    ],
)
def test_openai_chat_is_priced_as_the_package_prices_it(
    instrument: Any, api: LoopbackAPI, model: str, prompt: int, completion: int, cached: int, reasoning: int
) -> None:
    telemetry = instrument()
    usage = _chat_usage(prompt, completion, cached=cached, reasoning=reasoning)
    body = openai_wire.chat_completion("Paris.", model=model, usage=usage)
    api.route("POST", "/v1/chat/completions", Reply(body=body))
    _openai(api).chat.completions.create(model=model, messages=QUESTION)

    expected = package_price(
        model,
        "openai",
        input_tokens=prompt,
        output_tokens=completion,
        cache_read_tokens=cached,
        output_reasoning_tokens=reasoning,
    )
    cost, source = _cost(telemetry.only_span())
    assert source == SOURCE
    assert math.isclose(cost, expected, rel_tol=1e-12), (cost, expected)
    assert expected > 0


@pytest.mark.filterwarnings("ignore:The model:DeprecationWarning")  # the SDK's notice for Sonnet 4.5
@pytest.mark.parametrize(
    ("model", "input_tokens", "cache_read", "cache_5m", "cache_1h", "output"),
    [
        ("claude-sonnet-4-5-20250929", 900, 0, 0, 0, 250),
        ("claude-sonnet-4-5-20250929", 400, 12_000, 3_000, 1_000, 700),
        ("claude-sonnet-4-5-20250929", 190_000, 20_000, 0, 0, 1_000),  # past the 200k long-context tier
        ("claude-haiku-4-5-20251001", 1500, 8000, 0, 2500, 300),
    ],
)
def test_anthropic_message_prices_cache_reads_and_both_cache_write_lifetimes(
    instrument: Any,
    api: LoopbackAPI,
    model: str,
    input_tokens: int,
    cache_read: int,
    cache_5m: int,
    cache_1h: int,
    output: int,
) -> None:
    telemetry = instrument()
    usage = anthropic_wire.usage(input_tokens, output, cache_read=cache_read, cache_creation=cache_5m + cache_1h)
    usage["cache_creation"] = {"ephemeral_5m_input_tokens": cache_5m, "ephemeral_1h_input_tokens": cache_1h}
    body = anthropic_wire.message([{"type": "text", "text": "Paris.", "citations": None}], model=model, usage=usage)
    api.route("POST", "/v1/messages", Reply(body=body))
    _anthropic(api).messages.create(model=model, max_tokens=100, messages=QUESTION)

    total_input = input_tokens + cache_read + cache_5m + cache_1h  # the package counts cached input in input
    expected = package_price(
        model,
        "anthropic",
        input_tokens=total_input,
        output_tokens=output,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_5m + cache_1h,
        cache_write_1h_tokens=cache_1h,
    )
    cost, source = _cost(telemetry.only_span())
    assert source == SOURCE
    assert math.isclose(cost, expected, rel_tol=1e-12), (cost, expected)


@pytest.mark.filterwarnings("ignore:The model:DeprecationWarning")
def test_anthropic_stream_is_priced_from_its_final_usage(instrument: Any, api: LoopbackAPI) -> None:
    telemetry = instrument()
    model = "claude-sonnet-4-5-20250929"
    usage = anthropic_wire.usage(300, 40, cache_read=5000, cache_creation=2000)
    usage["cache_creation"] = {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 1500}
    final = anthropic_wire.message([{"type": "text", "text": "Paris.", "citations": None}], model=model, usage=usage)
    api.route("POST", "/v1/messages", Reply(events=anthropic_wire.stream_events(final), done_marker=False))
    with _anthropic(api).messages.stream(model=model, max_tokens=100, messages=QUESTION) as stream:
        stream.until_done()

    expected = package_price(
        model,
        "anthropic",
        input_tokens=7300,
        output_tokens=40,
        cache_read_tokens=5000,
        cache_write_tokens=2000,
        cache_write_1h_tokens=1500,
    )
    cost, _ = _cost(telemetry.only_span())
    assert math.isclose(cost, expected, rel_tol=1e-12), (cost, expected)


def test_openai_stream_with_usage_is_priced_and_without_usage_is_not(
    instrument: Any, api: LoopbackAPI, caplog: pytest.LogCaptureFixture
) -> None:
    telemetry = instrument()
    model = "gpt-4o-2024-08-06"  # a model no other test streams without usage (one warning per process)
    with_usage = openai_wire.chat_chunks(["Par", "is."], model=model, usage=_chat_usage(20, 3))
    without = openai_wire.chat_chunks(["Par", "is."], model=model)
    client = _openai(api)
    api.route("POST", "/v1/chat/completions", Reply(events=with_usage))
    for _ in client.chat.completions.create(
        model=model, messages=QUESTION, stream=True, stream_options={"include_usage": True}
    ):
        pass
    api.route("POST", "/v1/chat/completions", Reply(events=without))
    with caplog.at_level(logging.WARNING, logger="llmtap"):
        for _ in range(2):
            for _ in client.chat.completions.create(model=model, messages=QUESTION, stream=True):
                pass

    priced, unpriced, again = telemetry.genai_spans()
    cost, source = _cost(priced)
    assert math.isclose(cost, package_price(model, "openai", input_tokens=20, output_tokens=3), rel_tol=1e-12)
    assert source == SOURCE
    assert _cost(unpriced) == (None, None) == _cost(again)
    warnings = [record.getMessage() for record in caplog.records if "no cost" in record.getMessage()]
    assert warnings == [
        "llmtap: no cost recorded for openai/gpt-4o-2024-08-06: the response reported no token usage"
    ]


def test_unknown_model_gets_no_cost_and_one_warning(
    instrument: Any, api: LoopbackAPI, caplog: pytest.LogCaptureFixture
) -> None:
    telemetry = instrument()
    model = "acme-private-llm-7"
    api.route("POST", "/v1/chat/completions", Reply(body=openai_wire.chat_completion("Paris.", model=model)))
    with caplog.at_level(logging.WARNING, logger="llmtap"):
        for _ in range(3):
            _openai(api).chat.completions.create(model=model, messages=QUESTION)
    assert [_cost(span) for span in telemetry.genai_spans()] == [(None, None)] * 3
    assert telemetry.metric_points("llmtap.client.cost") == []
    assert [record.getMessage() for record in caplog.records] == [
        "llmtap: no cost recorded for openai/acme-private-llm-7: no price is known for this model "
        "(add one under [prices])"
    ]


def test_failed_call_has_no_cost_and_no_warning(
    instrument: Any, api: LoopbackAPI, caplog: pytest.LogCaptureFixture
) -> None:
    telemetry = instrument()
    error = openai_wire.error_body("The server had an error.", kind="server_error", code=None)
    api.route("POST", "/v1/chat/completions", Reply(status=500, body=error))
    with caplog.at_level(logging.WARNING, logger="llmtap"), pytest.raises(openai.InternalServerError):
        _openai(api).chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    assert _cost(telemetry.only_span()) == (None, None)
    assert caplog.records == []


def test_embeddings_are_priced_on_input_tokens(instrument: Any, api: LoopbackAPI) -> None:
    telemetry = instrument()
    model = "text-embedding-3-small"
    body = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, -0.2]}],
        "model": model,
        "usage": {"prompt_tokens": 5000, "total_tokens": 5000},
    }
    api.route("POST", "/v1/embeddings", Reply(body=body))
    _openai(api).embeddings.create(model=model, input="Paris is the capital of France.")
    cost, _ = _cost(telemetry.only_span())
    assert math.isclose(cost, package_price(model, "openai", input_tokens=5000), rel_tol=1e-12)


def test_service_tier_selects_the_package_price_variant(instrument: Any, api: LoopbackAPI) -> None:
    telemetry = instrument()
    model = "gpt-5-mini-2025-08-07"
    body = openai_wire.chat_completion("Paris.", model=model, usage=_chat_usage(10_000, 2_000))
    body["service_tier"] = "flex"
    api.route("POST", "/v1/chat/completions", Reply(body=body))
    _openai(api).chat.completions.create(model=model, messages=QUESTION, service_tier="flex")
    cost, _ = _cost(telemetry.only_span())
    flex = package_price(model, "openai", "flex", input_tokens=10_000, output_tokens=2_000)
    standard = package_price(model, "openai", input_tokens=10_000, output_tokens=2_000)
    assert math.isclose(cost, flex, rel_tol=1e-12)
    assert flex < standard


def test_config_price_wins_over_the_package_and_prices_private_models(instrument: Any, api: LoopbackAPI) -> None:
    telemetry = instrument(
        {
            "prices": {
                "openai/gpt-4o-mini-2024-07-18": {"input": 1.0, "output": 2.0, "cache_read": 0.5},
                "openai/acme-private-llm-7": {"input": 0.3, "output": 1.2},
            }
        }
    )
    client = _openai(api)
    for model in ("gpt-4o-mini-2024-07-18", "acme-private-llm-7"):
        body = openai_wire.chat_completion("Paris.", model=model, usage=_chat_usage(3000, 500, cached=1000))
        api.route("POST", "/v1/chat/completions", Reply(body=body))
        client.chat.completions.create(model=model, messages=QUESTION)
    known, private = telemetry.genai_spans()
    # per million: 2000 uncached input at 1.0, 1000 cache reads at 0.5, 500 output at 2.0
    assert _cost(known) == (pytest.approx((2000 * 1.0 + 1000 * 0.5 + 500 * 2.0) / 1e6, rel=1e-12), "config")
    # no cache_read price: cache reads are charged as input
    assert _cost(private) == (pytest.approx((3000 * 0.3 + 500 * 1.2) / 1e6, rel=1e-12), "config")


def test_cost_metric_carries_provider_models_and_metric_labels(instrument: Any, api: LoopbackAPI) -> None:
    telemetry = instrument(
        {
            "labels": {
                "feature": {"type": "enum", "values": ["checkout", "search"], "metric": True},
                "user_id": {"type": "string"},
            }
        }
    )
    model = "gpt-4o-mini-2024-07-18"
    api.route("POST", "/v1/chat/completions", Reply(body=openai_wire.chat_completion("Paris.", model=model)))
    client = _openai(api)
    with llmtap.tags(feature="checkout", user_id="u-1"):
        client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
        client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    with llmtap.tags(feature="search", user_id="u-2"):
        client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)

    one = package_price(model, "openai", input_tokens=12, output_tokens=5)
    spans = telemetry.genai_spans()
    assert [span.attributes["llmtap.usage.cost"] for span in spans] == [pytest.approx(one, rel=1e-12)] * 3
    points = {point.attributes["llmtap.tag.feature"]: point for point in telemetry.metric_points("llmtap.client.cost")}
    assert set(points) == {"checkout", "search"}
    assert dict(points["checkout"].attributes) == {
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": model,
        "llmtap.tag.feature": "checkout",
    }
    assert points["checkout"].value == pytest.approx(2 * one, rel=1e-12)
    assert points["search"].value == pytest.approx(one, rel=1e-12)


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        (
            {"gpt-4o": {"input": 1, "output": 2}},
            "instrument(config=...): prices.'gpt-4o': expected a key of the form \"<provider>/<model>\", "
            'e.g. "openai/gpt-4o"',
        ),
        (
            {"openai/x": {"input": -1, "output": 2}},
            "instrument(config=...): prices.'openai/x'.input=-1: expected a number >= 0 (USD per million tokens)",
        ),
        (
            {"openai/x": {"input": 1}},
            "instrument(config=...): prices.'openai/x': 'output' is missing; input and output prices are required",
        ),
        (
            {"openai/x": {"input": 1, "output": 2, "cached": 1}},
            "instrument(config=...): prices.'openai/x': unknown field 'cached'; "
            "expected one of input, output, cache_read, cache_write",
        ),
    ],
)
def test_bad_price_tables_name_the_key_and_what_was_expected(
    telemetry: Telemetry, prices: dict[str, Any], message: str
) -> None:
    try:
        with pytest.raises(ConfigError) as raised:
            llmtap.instrument(tracer_provider=telemetry.tracer_provider, config={"prices": prices})
        assert str(raised.value) == message
    finally:
        llmtap.uninstrument()
