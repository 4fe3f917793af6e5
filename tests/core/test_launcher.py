"""The `opentelemetry-instrument` launcher finds the llmtap plugin and traces an unmodified script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.environment import child_env
from tests.support.loopback import LoopbackAPI, Reply

SCRIPT = """
import openai
client = openai.OpenAI()
reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hi"}])
print("APP:", reply.choices[0].message.content)
"""

COMPLETION = {
    "id": "chatcmpl-launcher1",
    "object": "chat.completion",
    "created": 1764201600,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hi!", "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 9,
        "completion_tokens": 3,
        "total_tokens": 12,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    },
    "service_tier": "default",
    "system_fingerprint": "fp_0ba0d124f1",
}


def _console_spans(stdout: str) -> list[dict]:
    """The console exporter prints one pretty JSON object per span."""
    spans, depth, start = [], 0, None
    for index, char in enumerate(stdout):
        if char == "{":
            if depth == 0:
                start = index
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                spans.append(json.loads(stdout[start : index + 1]))
    return spans


def test_launcher_produces_a_chat_span_for_an_unmodified_script(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    launcher = Path(sys.executable).with_name("opentelemetry-instrument")
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        env = {
            **child_env(),
            "OPENAI_API_KEY": "sk-launcher-SECRET-0123456789",
            "OPENAI_BASE_URL": f"{api.base_url}/v1",
            "OTEL_TRACES_EXPORTER": "console",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_SERVICE_NAME": "launcher-app",
        }
        result = subprocess.run(
            [str(launcher), sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 0, result.stderr
    assert "APP: Hi!" in result.stdout
    spans = [span for span in _console_spans(result.stdout) if span.get("name", "").startswith("chat ")]
    assert len(spans) == 1, result.stdout
    span = spans[0]
    assert span["name"] == "chat gpt-4o-mini"
    assert span["kind"] == "SpanKind.CLIENT"
    assert span["attributes"]["gen_ai.provider.name"] == "openai"
    assert span["attributes"]["gen_ai.response.id"] == "chatcmpl-launcher1"
    assert span["attributes"]["gen_ai.usage.input_tokens"] == 9
    assert span["attributes"]["gen_ai.usage.output_tokens"] == 3
    assert json.loads(span["attributes"]["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hi!"}], "finish_reason": "stop"}
    ]
    assert span["resource"]["attributes"]["service.name"] == "launcher-app"
    assert "sk-launcher-SECRET" not in result.stdout + result.stderr


LABELLED_SCRIPT = """
import openai
from opentelemetry import trace
with trace.get_tracer("app").start_as_current_span("app-handler"):
    openai.OpenAI().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
print("APP: done")
"""


def _launch(tmp_path: Path, api: LoopbackAPI, **extra: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "app.py"
    script.write_text(LABELLED_SCRIPT)
    env = {
        **child_env(),
        "OPENAI_API_KEY": "sk-launcher-SECRET-0123456789",
        "OPENAI_BASE_URL": f"{api.base_url}/v1",
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        **extra,
    }
    launcher = Path(sys.executable).with_name("opentelemetry-instrument")
    return subprocess.run(
        [str(launcher), sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )


def test_kill_switch_under_the_launcher_leaves_no_trace_of_llmtap(tmp_path: Path) -> None:
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        result = _launch(tmp_path, api, LLMTAP_ENABLED="false", LLMTAP_TAGS="team=red")
    assert result.returncode == 0, result.stderr
    spans = {span["name"]: span for span in _console_spans(result.stdout)}
    assert sorted(spans) == ["app-handler"]  # no chat span
    assert spans["app-handler"]["attributes"] == {}  # and no labels stamped


def test_a_bad_llmtap_setting_under_the_launcher_turns_only_llmtap_off(tmp_path: Path) -> None:
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        result = _launch(tmp_path, api, LLMTAP_MAX_CONTENT_CHARS="lots")
    assert result.returncode == 0, result.stderr
    assert "APP: done" in result.stdout
    assert "LLMTAP_MAX_CONTENT_CHARS='lots': expected a whole number >= 0" in result.stderr
    assert "Failed to auto initialize" not in result.stderr
    assert [span["name"] for span in _console_spans(result.stdout)] == ["app-handler"]


def test_a_bad_capture_setting_under_the_launcher_reads_as_under_instrument(tmp_path: Path) -> None:
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        result = _launch(tmp_path, api, LLMTAP_CAPTURE_CONTENT="maybe", LLMTAP_CAPTUR_CONTENT="false")
    assert result.returncode == 0, result.stderr
    assert "APP: done" in result.stdout
    # the very lines `instrument()` logs (tests/core/test_config_errors.py), each once
    assert result.stderr.splitlines() == [
        "llmtap: LLMTAP_CAPTURE_CONTENT='maybe': expected a boolean (true/false, 1/0, yes/no, on/off); "
        "content capture is off",
        "llmtap: LLMTAP_CAPTUR_CONTENT is not an llmtap setting and is ignored; did you mean LLMTAP_CAPTURE_CONTENT?",
    ]
    spans = {span["name"]: span for span in _console_spans(result.stdout)}
    assert sorted(spans) == ["app-handler", "chat gpt-4o-mini"]
    assert "gen_ai.input.messages" not in spans["chat gpt-4o-mini"]["attributes"]
    assert spans["chat gpt-4o-mini"]["attributes"]["gen_ai.usage.input_tokens"] == 9
