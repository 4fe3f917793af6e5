"""`llmtap.instrument()` sets up the telemetry pipeline from `OTEL_*` when the app configured none."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.core.test_launcher import COMPLETION, _console_spans
from tests.support.environment import child_env
from tests.support.loopback import LoopbackAPI, Reply

APP = """
import sys
import llmtap
assert "openai" not in sys.modules, "import llmtap must not import openai"
llmtap.instrument()
import openai
reply = openai.OpenAI().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
from opentelemetry import trace
trace.get_tracer_provider().shutdown()
print("APP:", reply.choices[0].message.content)
"""


def _run(env_extra: dict[str, str], api: LoopbackAPI, app: str = APP) -> subprocess.CompletedProcess[str]:
    env = {
        **child_env(),
        "OPENAI_API_KEY": "sk-pipeline-SECRET-0123456789",
        "OPENAI_BASE_URL": f"{api.base_url}/v1",
        **env_extra,
    }
    return subprocess.run([sys.executable, "-c", app], env=env, capture_output=True, text=True, timeout=120)


def test_console_exporter_from_otel_traces_exporter() -> None:
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        result = _run({"OTEL_TRACES_EXPORTER": "console"}, api)
    assert result.returncode == 0, result.stderr
    assert "APP: Hi!" in result.stdout
    names = [span["name"] for span in _console_spans(result.stdout)]
    assert names == ["chat gpt-4o-mini"]


def test_otlp_http_exporter_when_an_endpoint_is_set() -> None:
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        api.route("POST", "/v1/traces", Reply(body={}))
        result = _run({"OTEL_EXPORTER_OTLP_ENDPOINT": api.base_url, "OTEL_METRICS_EXPORTER": "none"}, api)
        deadline = time.monotonic() + 10
        while not any(r.path == "/v1/traces" for r in api.requests) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert result.returncode == 0, result.stderr
    exports = [r for r in api.requests if r.path == "/v1/traces"]
    assert len(exports) == 1
    assert exports[0].headers["content-type"] == "application/x-protobuf"
    assert "chat gpt-4o-mini" in exports[0].body
    assert "sk-pipeline-SECRET" not in exports[0].body


def test_unknown_exporter_name_is_logged_and_the_app_runs_without_llmtap() -> None:
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        result = _run(
            {"OTEL_TRACES_EXPORTER": "zipkin-ish"}, api, APP.replace("trace.get_tracer_provider().shutdown()", "")
        )
    assert result.returncode == 0, result.stderr
    assert "APP: Hi!" in result.stdout
    assert result.stderr.splitlines() == [
        "llmtap: OTEL_TRACES_EXPORTER='zipkin-ish': unknown exporter 'zipkin-ish'; expected otlp, console or none; "
        "llmtap is off"
    ]


TELLS = """
import logging, sys
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s", stream=sys.stdout)
import llmtap
llmtap.instrument()
llmtap.instrument()
"""


def test_instrument_says_where_telemetry_goes_once() -> None:
    env = child_env()
    env["LLMTAP_STORE"] = "off"  # with the store on, the store's one line says where traces go (tests/store)
    result = subprocess.run([sys.executable, "-c", TELLS], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "INFO llmtap llmtap: no exporter configured (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT) and no "
        "tracer provider set: spans and metrics go to the providers the application sets up later, else nowhere; "
        "to see them set OTEL_TRACES_EXPORTER=console, or OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 "
        "(pip install llmtap[otlp]); `llmtap doctor` shows the configuration"
    ]
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9"
    env["OTEL_TRACES_EXPORTER"] = "console,otlp"
    result = subprocess.run([sys.executable, "-c", TELLS], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "INFO llmtap llmtap: spans to console (stdout), OTLP/HTTP http://127.0.0.1:9/v1/traces; metrics to "
        "OTLP/HTTP http://127.0.0.1:9/v1/metrics (each OTLP export gives up after 2 s, so an unreachable collector "
        "delays the application's exit by a few seconds at most; OTEL_EXPORTER_OTLP_TIMEOUT changes it)"
    ]


EXIT_TIMING = """
import atexit, time
ended = []
# registered first, so it runs after the providers llmtap set up have shut down
atexit.register(lambda: print(f"SHUTDOWN: {time.monotonic() - ended[0]:.1f}"))
import llmtap
llmtap.instrument()
import openai
openai.OpenAI().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
ended.append(time.monotonic())
"""


def test_an_unreachable_collector_delays_exit_by_a_few_seconds_at_most() -> None:
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        # a port nothing listens on: each export is refused, and retried until the bounded timeout
        result = _run({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}, api, EXIT_TIMING)
    assert result.returncode == 0, result.stderr
    shutdown = float(result.stdout.split("SHUTDOWN: ")[1])
    assert shutdown < 6  # two signals, each giving up after 2 s (it was ~12 s with the exporters' defaults)


APP_SETS_ITS_PROVIDER_LATER = """
import llmtap
llmtap.instrument()                      # before the application has set up OpenTelemetry
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)      # accepted: llmtap installed no global provider of its own
assert trace.get_tracer_provider() is provider
import openai
with llmtap.tags(user_id="u1"):
    with trace.get_tracer("app").start_as_current_span("handler"):
        openai.OpenAI().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
print(sorted((span.name, span.attributes.get("llmtap.tag.user_id")) for span in exporter.get_finished_spans()))
"""


def test_with_no_exporter_configured_a_provider_set_later_gets_the_spans() -> None:
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        env = {
            **child_env(),
            "OPENAI_API_KEY": "sk-pipeline-SECRET-0123456789",
            "OPENAI_BASE_URL": f"{api.base_url}/v1",
            "LLMTAP_STORE": "off",  # the local store's part of this case: tests/store/test_wiring.py
        }
        result = subprocess.run(
            [sys.executable, "-c", APP_SETS_ITS_PROVIDER_LATER], env=env, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 0, result.stderr
    assert "Overriding of current TracerProvider is not allowed" not in result.stderr
    # the label processor follows the provider installed after instrument(): both spans carry the label
    assert result.stdout.strip() == "[('chat gpt-4o-mini', 'u1'), ('handler', 'u1')]"
