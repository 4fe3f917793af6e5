"""Default wiring, three ways in: `instrument()`, the launcher, and an application that sets its provider later.

Each case runs an unmodified-looking application in a fresh process, in its own working directory, against
the loopback OpenAI fake, and reads the store it left behind through the store API.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from llmtap.store import TraceQuery, open_store
from tests.core.test_launcher import COMPLETION
from tests.support.environment import child_env
from tests.support.loopback import LoopbackAPI, Reply

CHAT = """
import openai
reply = openai.OpenAI().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hi"}])
print("APP:", reply.choices[0].message.content)
"""
INSTRUMENTED = "import logging, llmtap\nlogging.basicConfig(level=logging.INFO)\nllmtap.instrument()\n" + CHAT
INFO_LINE = (
    "INFO:llmtap:llmtap: recording traces to the local store {path}; list them with `llmtap traces` "
    "(LLMTAP_STORE=off turns the store off)"
)


def _run(
    cwd: Path, api: LoopbackAPI, code: str = INSTRUMENTED, *, launcher: bool = False, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **child_env(),
        "OPENAI_API_KEY": "sk-wiring-SECRET-0123456789",
        "OPENAI_BASE_URL": f"{api.base_url}/v1",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        **extra,
    }
    script = cwd / "app.py"
    script.write_text(code)
    command = [sys.executable, str(script)]
    if launcher:
        command = [str(Path(sys.executable).with_name("opentelemetry-instrument")), *command]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "APP: Hi!" in result.stdout
    return result


def _chat_spans(path: Path) -> list[tuple[str, str, int]]:
    store = open_store(path, create=False)
    try:
        found = []
        for summary in store.query_traces(TraceQuery(limit=100)):
            for span in store.get_trace(summary.trace_id).spans:
                found.append((span.name, span.scope["name"], span.attributes.get("gen_ai.usage.input_tokens")))
        return sorted(found)
    finally:
        store.close()


def test_instrument_with_nothing_configured_records_to_the_store_and_says_so_once(tmp_path: Path) -> None:
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        result = _run(tmp_path, api)
    path = tmp_path / ".llmtap" / "llmtap.db"
    assert _chat_spans(path) == [("chat gpt-4o-mini", "llmtap", 9)]
    lines = [line for line in result.stderr.splitlines() if "local store" in line]
    assert lines == [INFO_LINE.format(path=path)]


def test_launcher_with_only_llmtap_and_nothing_configured_records_to_the_same_store(tmp_path: Path) -> None:
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        # No distro and no configurator, as when only llmtap is installed (the dev environment has the distro).
        _run(tmp_path, api, CHAT, launcher=True, OTEL_PYTHON_DISTRO="absent", OTEL_PYTHON_CONFIGURATOR="absent")
    assert _chat_spans(tmp_path / ".llmtap" / "llmtap.db") == [("chat gpt-4o-mini", "llmtap", 9)]


APP_PROVIDER_LATER = """
import llmtap
llmtap.instrument()
import openai
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
@llmtap.workflow(name="before")
def before() -> None: ...
before()
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
with trace.get_tracer("app").start_as_current_span("handler"):
    reply = openai.OpenAI().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
provider.shutdown()
print("APP:", reply.choices[0].message.content)
print("EXPORTED:", sorted(span.name for span in exporter.get_finished_spans()))
"""


def test_an_application_provider_set_later_gets_the_spans_and_the_store_keeps_recording(tmp_path: Path) -> None:
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        result = _run(tmp_path, api, APP_PROVIDER_LATER)
    assert "Overriding of current TracerProvider is not allowed" not in result.stderr
    assert "EXPORTED: ['chat gpt-4o-mini', 'handler']" in result.stdout
    assert _chat_spans(tmp_path / ".llmtap" / "llmtap.db") == [
        ("chat gpt-4o-mini", "llmtap", 9),
        ("handler", "app", None),
        ("invoke_workflow before", "llmtap", None),
    ]


def _otlp_run(tmp_path: Path, **extra: str) -> list[str]:
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        api.route("POST", "/v1/traces", Reply(body={}))
        _run(tmp_path, api, OTEL_EXPORTER_OTLP_ENDPOINT=api.base_url, OTEL_METRICS_EXPORTER="none", **extra)
        deadline = time.monotonic() + 10
        while not any(r.path == "/v1/traces" for r in api.requests) and time.monotonic() < deadline:
            time.sleep(0.05)
        return [r.body for r in api.requests if r.path == "/v1/traces"]


def test_with_otlp_configured_spans_go_to_otlp_only(tmp_path: Path) -> None:
    exports = _otlp_run(tmp_path)
    assert len(exports) == 1 and "chat gpt-4o-mini" in exports[0]
    assert not (tmp_path / ".llmtap").exists()


def test_with_otlp_configured_and_llmtap_store_set_spans_go_to_both(tmp_path: Path) -> None:
    exports = _otlp_run(tmp_path, LLMTAP_STORE="traces/app.db")
    assert len(exports) == 1 and "chat gpt-4o-mini" in exports[0]
    assert _chat_spans(tmp_path / "traces" / "app.db") == [("chat gpt-4o-mini", "llmtap", 9)]


def test_llmtap_store_off_records_nothing_locally(tmp_path: Path) -> None:
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        result = _run(tmp_path, api, LLMTAP_STORE="off")
    assert not (tmp_path / ".llmtap").exists()
    assert "local store" not in result.stderr


FEEDBACK_FIRST = """
import llmtap
llmtap.instrument()
llmtap.annotate({"join": {"label": "message_id", "value": "m-9"}}, "rating", 4, annotator_kind="end_user")
print("APP: Hi!")
"""
CALL_LATER = """
import llmtap
llmtap.instrument()
import openai
with llmtap.tags(message_id="m-9"):
    reply = openai.OpenAI().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
llmtap.annotate(llmtap.span_of(reply), "thumbs", "up", explanation="quick")
print("APP:", reply.choices[0].message.content)
"""


def test_annotations_are_recorded_and_a_join_key_from_another_process_resolves(tmp_path: Path) -> None:
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        _run(tmp_path, api, FEEDBACK_FIRST, LLMTAP_ANNOTATIONS_MODE="open")
        store = open_store(tmp_path / ".llmtap" / "llmtap.db", create=False)
        [waiting] = store.pending_annotations()
        assert (waiting.name, waiting.value, waiting.target) == (
            "rating",
            4,
            {"kind": "span", "join": {"label": "message_id", "value": "m-9"}},
        )
        _run(tmp_path, api, CALL_LATER, LLMTAP_ANNOTATIONS_MODE="open")
    [summary] = store.query_traces()
    detail = store.get_trace(summary.trace_id)
    [chat] = detail.spans
    found = {(a.name, a.value, a.explanation, a.annotator_kind, a.trace_id, a.span_id) for a in detail.annotations}
    assert found == {
        ("rating", 4, None, "end_user", summary.trace_id, chat.span_id),
        ("thumbs", "up", "quick", "human", summary.trace_id, chat.span_id),
    }
    assert store.pending_annotations() == []
    assert [s.trace_id for s in store.query_traces(TraceQuery(annotations={"rating": "4"}))] == [summary.trace_id]
