"""The SDK's own OpenTelemetry span vs llmtap's: exactly one GenAI span per API call."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import anthropic
import llmtap
from tests.anthropic.conftest import API_KEY, cassettes
from tests.anthropic.test_cassettes import PLAIN, STREAM_REQUEST
from tests.support import anthropic_wire as wire
from tests.support.anthropic_wire import MODEL
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry


def traced_client(telemetry: Telemetry, **options: object) -> anthropic.Anthropic:
    """A client whose own tracing is on, writing to the test pipeline (what the SDK reads besides the global)."""
    return anthropic.Anthropic(
        api_key=API_KEY, max_retries=0, open_telemetry={"tracer_provider": telemetry.tracer_provider, **options}
    )


def scopes(telemetry: Telemetry) -> list[tuple[str, str]]:
    return [(span.instrumentation_scope.name, span.name) for span in telemetry.spans()]


def test_sdk_traces_itself_without_llmtap(telemetry: Telemetry) -> None:
    with cassettes.use_cassette("plain_message.yaml"):
        traced_client(telemetry).messages.create(**PLAIN)
    assert scopes(telemetry) == [("com.anthropic.sdk.python", "anthropic.messages.create")]


@pytest.mark.parametrize("native", ["on", "off-option", "off-env"])
def test_one_span_per_call(instrumented: Telemetry, native: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if native == "off-env":  # read only for a client given no `open_telemetry` option
        monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY", "false")
        sdk = anthropic.Anthropic(api_key=API_KEY, max_retries=0)
    else:
        sdk = traced_client(instrumented, traces=native == "on")
    assert sdk.open_telemetry["traces"]["enabled"] is (native == "on")
    with cassettes.use_cassette("plain_message.yaml"):
        sdk.messages.create(**PLAIN)
    with cassettes.use_cassette("stream_helper.yaml"), sdk.messages.stream(**STREAM_REQUEST) as stream:
        stream.until_done()
    assert scopes(instrumented) == [("llmtap", f"chat {MODEL}"), ("llmtap", f"chat {MODEL}")]
    plain, streamed = instrumented.genai_spans()
    assert plain.attributes["gen_ai.output.messages"] == (
        '[{"role":"assistant","parts":[{"type":"text","content":"Hello!"}],"finish_reason":"stop"}]'
    )
    assert streamed.attributes["llmtap.stream.outcome"] == "completed"


def test_client_created_before_instrument_and_labels(telemetry: Telemetry) -> None:
    sdk = traced_client(telemetry)
    llmtap.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, config={})
    try:
        with llmtap.tags(user_id="u1"), cassettes.use_cassette("plain_message.yaml"):
            sdk.messages.create(**PLAIN)
    finally:
        llmtap.uninstrument()
    with cassettes.use_cassette("plain_message.yaml"):
        sdk.messages.create(**PLAIN)  # uninstrumented: the SDK's own span again
    assert scopes(telemetry) == [
        ("llmtap", f"chat {MODEL}"),
        ("com.anthropic.sdk.python", "anthropic.messages.create"),
    ]
    assert telemetry.spans()[0].attributes["llmtap.tag.user_id"] == "u1"


def test_trace_context_sent_names_the_llmtap_span(instrumented: Telemetry, api: LoopbackAPI) -> None:
    api.route("POST", "/v1/messages", Reply(body=wire.message([{"type": "text", "text": "Hi", "citations": None}])))
    sdk = anthropic.Anthropic(
        api_key=API_KEY,
        base_url=api.base_url,
        max_retries=0,
        open_telemetry={"tracer_provider": instrumented.tracer_provider},
    )
    sdk.messages.create(**PLAIN)
    span = instrumented.only_span()
    assert span.attributes["server.address"] == "127.0.0.1"
    sent = api.requests[0].headers["traceparent"]
    assert sent == f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-{int(span.context.trace_flags):02x}"


def test_global_tracer_provider_in_a_subprocess() -> None:
    """With a global TracerProvider (what the SDK reads by default) the SDK span is replaced, not duplicated."""
    script = textwrap.dedent(
        f"""
        import json, anthropic, llmtap
        from opentelemetry import trace
        from tests.support.telemetry import Telemetry
        from tests.anthropic.conftest import cassettes
        from tests.anthropic.test_cassettes import PLAIN
        telemetry = Telemetry()
        trace.set_tracer_provider(telemetry.tracer_provider)
        before = anthropic.Anthropic(api_key="{API_KEY}", max_retries=0)
        with cassettes.use_cassette("plain_message.yaml"):
            before.messages.create(**PLAIN)
        llmtap.instrument(meter_provider=telemetry.meter_provider, config={{}})
        after = anthropic.Anthropic(api_key="{API_KEY}", max_retries=0)
        for client in (before, after):
            with cassettes.use_cassette("plain_message.yaml"):
                client.messages.create(**PLAIN)
        print(json.dumps([[s.instrumentation_scope.name, s.name] for s in telemetry.spans()]))
        """
    )
    env = {"PATH": "/usr/bin:/bin", "LLMTAP_STORE": "off", "OTEL_TRACES_EXPORTER": "none"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env, cwd="."
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        ["com.anthropic.sdk.python", "anthropic.messages.create"],
        ["llmtap", f"chat {MODEL}"],
        ["llmtap", f"chat {MODEL}"],
    ]
