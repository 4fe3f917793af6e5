"""Start-up: `import llmtap` and `llmtap.instrument()` import only what capturing needs (no timing here:
benchmarks/bench_startup.py measures the cost). SDK modules the application has not imported yet (stream
helpers, some costly to import) are patched when the application imports them.

Each case runs in a fresh interpreter, as `sys.modules` of the test process holds everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support import openai_wire as wire
from tests.support.environment import child_env
from tests.support.loopback import LoopbackAPI, Reply

REPO_ROOT = Path(__file__).resolve().parents[2]

# The SDK modules the application has not imported after `import openai, anthropic`, which llmtap patches.
OPENAI_HELPERS = ("openai.lib.streaming.chat._completions", "openai.lib.streaming.responses._responses")

MODULES = """
import json, sys
import openai, anthropic
before = set(sys.modules)
import llmtap
imported = set(sys.modules)
llmtap.instrument()
instrumented = set(sys.modules)
print(json.dumps({
    "import": sorted(imported - before),
    "instrument": sorted(instrumented - imported),
    "helpers_before": sorted(name for name in before if name.startswith("openai.lib.streaming")),
}))
"""


def _run(program: str, **env: str) -> dict[str, Any]:
    clean = child_env()
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        env={**clean, **env},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_import_and_instrument_import_no_sdk_module_and_no_otel_sdk() -> None:
    result = _run(MODULES, LLMTAP_STORE="off")

    assert result["import"] == ["llmtap", "llmtap.errors", "llmtap.version"]
    assert result["helpers_before"] == []  # the stream helpers are not imported by `import openai`
    sdk_modules = [name for name in result["instrument"] if name.startswith(("openai", "anthropic"))]
    assert sdk_modules == []
    # With no exporter configured, no SDK provider given and the local store off, llmtap sets no pipeline up
    # (with the store on, the default, it records through an SDK provider of its own: see tests/store).
    assert [name for name in result["instrument"] if name.startswith("opentelemetry.sdk")] == []
    assert {"llmtap_openai", "llmtap_anthropic", "llmtap.runtime", "llmtap.emitter"} <= set(result["instrument"])
    # The plugins' light faces: not the OTel `BaseInstrumentor` (the launcher's), nor `packaging`.
    launcher_only = ("opentelemetry.instrumentation", "packaging")
    assert [name for name in result["instrument"] if name.startswith(launcher_only)] == []


# What recording into the local store (the default) may not import at start-up: the store opens its file on the
# exporter's worker thread, and the annotation log pipeline is set up when annotations are emitted.
STORE_NOT_AT_START_UP = ("sqlite3", "llmtap.store.api", "llmtap.store.sqlite", "opentelemetry.sdk._logs")


def test_with_the_store_on_instrument_imports_the_sdk_tracer_and_not_the_store(tmp_path: Path) -> None:
    result = _run(MODULES, LLMTAP_STORE=str(tmp_path / "traces.db"))

    imported = set(result["instrument"])
    assert {"opentelemetry.sdk.trace", "opentelemetry.sdk.trace.export", "llmtap.store.exporter"} <= imported
    assert [name for name in imported if name.startswith(STORE_NOT_AT_START_UP)] == []
    assert [name for name in imported if name.startswith(("opentelemetry.instrumentation", "packaging"))] == []
    assert [name for name in imported if name.startswith("opentelemetry.sdk.metrics")] == []


LATE_HELPER = """
import json, sys
import openai
import llmtap
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
llmtap.instrument(tracer_provider=provider, providers=["openai"], config={})
helper_imported_at_instrument = "openai.lib.streaming.chat._completions" in sys.modules

client = openai.OpenAI(api_key="sk-test-startup", base_url=sys.argv[1], max_retries=0)
with client.chat.completions.stream(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]) as stream:
    final = stream.get_final_completion()
span, = exporter.get_finished_spans()
print(json.dumps({
    "helper_imported_at_instrument": helper_imported_at_instrument,
    "span_of_final": list(llmtap.span_of(final) or ()),
    "span": [format(span.context.trace_id, "032x"), format(span.context.span_id, "016x")],
    "outcome": span.attributes["llmtap.stream.outcome"],
    "text": final.choices[0].message.content,
}))
"""


def test_a_stream_helper_imported_after_instrument_is_patched_then(api: LoopbackAPI) -> None:
    api.route("POST", "/chat/completions", Reply(events=wire.chat_chunks(["Hel", "lo"])))

    result = _run(LATE_HELPER.replace("sys.argv[1]", repr(api.base_url + "/")))

    assert result["helper_imported_at_instrument"] is False
    assert result["text"] == "Hello"
    assert result["outcome"] == "completed"
    # `get_final_completion` of the helper is wrapped: the final completion is linked to its span.
    assert result["span_of_final"] == result["span"]
