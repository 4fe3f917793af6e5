"""`instrument()` / `uninstrument()` and the switches that decide whether openai is patched at all."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import wrapt
from openai._base_client import AsyncAPIClient, SyncAPIClient
from openai._legacy_response import LegacyAPIResponse
from openai._response import APIResponse, AsyncAPIResponse
from openai._streaming import AsyncStream, Stream
from openai.lib.streaming.chat import _completions as chat_helpers
from openai.lib.streaming.responses import _responses as responses_helpers
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

import llmtap
import openai
from tests.support import openai_wire as wire
from tests.support.environment import CAPTURE_ENV
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry

ROOT = Path(__file__).resolve().parents[2]
ENV = (*CAPTURE_ENV, "LLMTAP_OPENAI_STREAM_USAGE", "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS")
# Every (owner, attribute) the openai plugin wraps.
WRAP_POINTS = [
    (SyncAPIClient, "request"),
    (AsyncAPIClient, "request"),
    (LegacyAPIResponse, "parse"),
    (APIResponse, "parse"),
    (AsyncAPIResponse, "parse"),
    (Stream, "close"),
    (Stream, "__exit__"),
    (AsyncStream, "close"),
    (AsyncStream, "__aexit__"),
    *(
        (getattr(module, f"{prefix}{stream}{suffix}"), method)
        for module, stream, final in (
            (chat_helpers, "ChatCompletionStream", "get_final_completion"),
            (responses_helpers, "ResponseStream", "get_final_response"),
        )
        for prefix, exit_name in (("", "__exit__"), ("Async", "__aexit__"))
        for suffix, method in (
            ("", "close"),
            ("", exit_name),
            ("", final),
            ("Manager", "__aenter__" if prefix else "__enter__"),
            ("Manager", exit_name),
        )
    ),
]


def _originals() -> list[object]:
    return [vars(owner)[name] for owner, name in WRAP_POINTS]


def _patched() -> list[bool]:
    return [isinstance(vars(owner)[name], wrapt.FunctionWrapper) for owner, name in WRAP_POINTS]


@pytest.fixture
def clean(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    """No llmtap switches in the environment; whatever a test instruments is removed afterwards."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    assert _patched() == [False] * len(WRAP_POINTS)
    try:
        yield telemetry
    finally:
        llmtap.uninstrument()


def _instrument(telemetry: Telemetry, **options: object) -> None:
    llmtap.instrument(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, config={}, **options
    )


def _chat(api: LoopbackAPI) -> str:
    api.route("POST", "/chat/completions", Reply(body=wire.chat_completion("Hi.")))
    client = openai.OpenAI(api_key="sk-test-lifecycle", base_url=api.base_url + "/", max_retries=0)
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    return completion.choices[0].message.content


def test_wrap_points_cover_the_plugin(clean: Telemetry) -> None:
    _instrument(clean)
    assert len(WRAP_POINTS) == 29
    assert _patched() == [True] * len(WRAP_POINTS)


def test_instrument_twice_gives_one_span_per_call(clean: Telemetry, api: LoopbackAPI) -> None:
    _instrument(clean)
    _instrument(clean)
    assert all(not isinstance(vars(owner)[name].__wrapped__, wrapt.FunctionWrapper) for owner, name in WRAP_POINTS)
    assert _chat(api) == "Hi."
    assert _chat(api) == "Hi."
    assert [span.name for span in clean.spans()] == ["chat gpt-4o-mini", "chat gpt-4o-mini"]


def test_a_later_instrument_without_providers_keeps_the_given_ones(clean: Telemetry, api: LoopbackAPI) -> None:
    _instrument(clean)
    llmtap.instrument(config={}, capture_content=False)  # new settings, same pipeline
    assert _chat(api) == "Hi."
    (span,) = clean.spans()
    assert span.name == "chat gpt-4o-mini"
    assert gen_ai.GEN_AI_INPUT_MESSAGES not in span.attributes
    assert sum(point.count for point in clean.metric_points("gen_ai.client.operation.duration")) == 1


def test_providers_given_anew_replace_the_ones_before(clean: Telemetry, api: LoopbackAPI) -> None:
    originals = _originals()
    _instrument(clean, providers=["openai"])
    assert _chat(api) == "Hi."
    llmtap.instrument(providers=["anthropic"])  # openai is no longer named: its patches are undone
    assert all(now is before for now, before in zip(_originals(), originals, strict=True))
    assert _chat(api) == "Hi."
    llmtap.instrument()  # a bare call keeps providers=["anthropic"]
    assert _chat(api) == "Hi."
    assert [span.name for span in clean.spans()] == ["chat gpt-4o-mini"]
    llmtap.instrument(providers=["openai", "anthropic"])
    assert _chat(api) == "Hi."
    assert [span.name for span in clean.spans()] == ["chat gpt-4o-mini", "chat gpt-4o-mini"]


def test_uninstrument_restores_the_originals(clean: Telemetry, api: LoopbackAPI) -> None:
    originals = _originals()
    _instrument(clean)
    assert [vars(owner)[name].__wrapped__ for owner, name in WRAP_POINTS] == originals
    assert _chat(api) == "Hi."
    assert len(clean.spans()) == 1

    llmtap.uninstrument()

    assert all(now is before for now, before in zip(_originals(), originals, strict=True))
    assert _chat(api) == "Hi."
    assert len(clean.spans()) == 1


def test_instrument_before_import_openai(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        import llmtap
        assert "openai" not in sys.modules, "importing llmtap imported openai"
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        llmtap.instrument(tracer_provider=provider, config={})
        assert "openai" not in sys.modules, "instrument() imported openai"

        import openai
        from tests.support import openai_wire as wire
        from tests.support.loopback import LoopbackAPI, Reply

        with LoopbackAPI() as api:
            api.route("POST", "/chat/completions", Reply(body=wire.chat_completion("Hi.")))
            client = openai.OpenAI(api_key="sk-test-sub", base_url=api.base_url + "/", max_retries=0)
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
        print([span.name for span in exporter.get_finished_spans()])
        """
    )
    env = {key: value for key, value in os.environ.items() if key not in ENV}
    env["LLMTAP_STORE"] = str(tmp_path / "llmtap.db")
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['chat gpt-4o-mini']"


@pytest.mark.parametrize(
    ("name", "value"),
    [("LLMTAP_ENABLED", "false"), ("OTEL_SDK_DISABLED", "true"), ("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "*")],
)
def test_kill_switches_patch_nothing(
    clean: Telemetry, api: LoopbackAPI, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    _instrument(clean)
    assert _patched() == [False] * len(WRAP_POINTS)
    assert _chat(api) == "Hi."
    assert clean.spans() == []


def test_disabled_instrumentations_skip_openai(
    clean: Telemetry, api: LoopbackAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "langchain, openai")
    _instrument(clean)
    assert _patched() == [False] * len(WRAP_POINTS)
    assert _chat(api) == "Hi."
    assert clean.spans() == []


def test_unknown_provider_is_a_config_error(clean: Telemetry) -> None:
    with pytest.raises(llmtap.ConfigError) as caught:
        _instrument(clean, providers=["nope"])
    assert "'nope'" in str(caught.value)
    assert "openai" in str(caught.value)  # names what is installed
    assert _patched() == [False] * len(WRAP_POINTS)


def test_providers_selects_openai(clean: Telemetry, api: LoopbackAPI) -> None:
    _instrument(clean, providers=["openai"])
    assert _patched() == [True] * len(WRAP_POINTS)
    assert _chat(api) == "Hi."
    assert len(clean.genai_spans()) == 1


# --- LLMTAP_OPENAI_STREAM_USAGE ----------------------------------------------------------------------------


def _usage_stream(api: LoopbackAPI) -> None:
    """Send the usage chunk only when the request asked for it, as the API does."""

    def reply(request: object) -> Reply:
        options = request.body.get("stream_options") or {}
        usage = wire.chat_usage(21, 3) if options.get("include_usage") else None
        return Reply(events=wire.chat_chunks(["Hi", "!"], usage=usage))

    api.route("POST", "/chat/completions", reply)


def test_stream_usage_injected_and_hidden(clean: Telemetry, api: LoopbackAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTAP_OPENAI_STREAM_USAGE", "true")
    _instrument(clean)
    _usage_stream(api)
    client = openai.OpenAI(api_key="sk-test-lifecycle", base_url=api.base_url + "/", max_retries=0)
    messages = [{"role": "user", "content": "x"}]

    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True))

    assert api.requests[-1].body["stream_options"] == {"include_usage": True}
    assert len(chunks) == 4  # role, "Hi", "!", finish: the usage-only chunk is not the caller's
    assert all(chunk.choices for chunk in chunks)
    span = clean.only_span()
    assert span.attributes[gen_ai.GEN_AI_USAGE_INPUT_TOKENS] == 21
    assert span.attributes[gen_ai.GEN_AI_USAGE_OUTPUT_TOKENS] == 3
    assert span.attributes["llmtap.stream.outcome"] == "completed"


def test_stream_usage_asked_by_the_caller_is_seen(
    clean: Telemetry, api: LoopbackAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMTAP_OPENAI_STREAM_USAGE", "true")
    _instrument(clean)
    _usage_stream(api)
    client = openai.OpenAI(api_key="sk-test-lifecycle", base_url=api.base_url + "/", max_retries=0)

    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "x"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    assert api.requests[-1].body["stream_options"] == {"include_usage": True}
    assert len(chunks) == 5
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == 21
    assert clean.only_span().attributes[gen_ai.GEN_AI_USAGE_INPUT_TOKENS] == 21


def test_stream_usage_off_by_default(clean: Telemetry, api: LoopbackAPI) -> None:
    _instrument(clean)
    _usage_stream(api)
    client = openai.OpenAI(api_key="sk-test-lifecycle", base_url=api.base_url + "/", max_retries=0)

    chunks = list(
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], stream=True)
    )

    assert "stream_options" not in api.requests[-1].body
    assert len(chunks) == 4
    span = clean.only_span()
    assert gen_ai.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes
