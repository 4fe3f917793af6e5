"""Issue 8 §7: request attributes carry the type the semantic conventions give them, whatever the app wrote."""

from __future__ import annotations

from langchain_openai import ChatOpenAI

from tests.safety.support import anthropic_client, openai_client, serve_chat, serve_messages
from tests.support.loopback import LoopbackAPI
from tests.support.telemetry import Telemetry

HELLO = [{"role": "user", "content": "Hello"}]


def _typed(span: object, names: list[str]) -> dict[str, tuple[type, object]]:
    return {name: (type(span.attributes[name]), span.attributes[name]) for name in names}  # type: ignore[attr-defined]


def test_openai_integer_parameters_are_doubles(instrumented: Telemetry, api: LoopbackAPI) -> None:
    serve_chat(api)
    openai_client(api).chat.completions.create(
        model="gpt-4o-mini",
        messages=HELLO,
        temperature=1,
        top_p=1,
        frequency_penalty=0,
        presence_penalty=2,
        seed=7,
        max_tokens=100,
        n=2,
        stop="END",
    )
    span = instrumented.only_span()
    assert _typed(
        span,
        [
            "gen_ai.request.temperature",
            "gen_ai.request.top_p",
            "gen_ai.request.frequency_penalty",
            "gen_ai.request.presence_penalty",
            "gen_ai.request.seed",
            "gen_ai.request.max_tokens",
            "gen_ai.request.choice.count",
        ],
    ) == {
        "gen_ai.request.temperature": (float, 1.0),
        "gen_ai.request.top_p": (float, 1.0),
        "gen_ai.request.frequency_penalty": (float, 0.0),
        "gen_ai.request.presence_penalty": (float, 2.0),
        "gen_ai.request.seed": (int, 7),
        "gen_ai.request.max_tokens": (int, 100),
        "gen_ai.request.choice.count": (int, 2),
    }
    assert span.attributes["gen_ai.request.stop_sequences"] == ("END",)


def test_anthropic_integer_parameters_are_doubles(instrumented: Telemetry, api: LoopbackAPI) -> None:
    serve_messages(api)
    anthropic_client(api).messages.create(
        model="claude-sonnet-5-5",
        max_tokens=64,
        messages=HELLO,
        extra_body={"temperature": 1, "top_p": 1, "top_k": 40},  # anthropic 2.x types no sampling parameters
    )
    span = instrumented.only_span()
    assert _typed(
        span,
        ["gen_ai.request.temperature", "gen_ai.request.top_p", "gen_ai.request.top_k", "gen_ai.request.max_tokens"],
    ) == {
        "gen_ai.request.temperature": (float, 1.0),
        "gen_ai.request.top_p": (float, 1.0),
        "gen_ai.request.top_k": (float, 40.0),
        "gen_ai.request.max_tokens": (int, 64),
    }


def test_langchain_model_span_integer_temperature_is_a_double(instrumented: Telemetry, api: LoopbackAPI) -> None:
    serve_chat(api)
    model = ChatOpenAI(
        model="gpt-4o-mini", api_key="sk-test-000000", base_url=api.base_url, temperature=1, top_p=1, max_retries=0
    )
    assert model.invoke("Hello").content == "Fine."
    spans = [span for span in instrumented.genai_spans() if span.name == "chat gpt-4o-mini"]
    assert spans  # the LangChain model span and/or the SDK span (the duplicate policy is issue 8 §1)
    for span in spans:
        assert _typed(span, ["gen_ai.request.temperature", "gen_ai.request.top_p"]) == {
            "gen_ai.request.temperature": (float, 1.0),
            "gen_ai.request.top_p": (float, 1.0),
        }
