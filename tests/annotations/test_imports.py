"""The capture path never loads the annotation machinery (nor its signing library)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import llmtap
from opentelemetry.sdk.trace import TracerProvider

def loaded():
    return sorted(name for name in sys.modules if name.startswith("llmtap.annotations") or name == "itsdangerous")

llmtap.instrument(tracer_provider=TracerProvider(), config={})
with llmtap.LLMTracer().trace_llm_call(model_name="m", prompt="Hi") as span:
    span.set_response("Hello")
    span.set_tag("user_id", "u1")
print(loaded())
llmtap.instrument(config={"annotations": {"human_feedback": {"type": "boolean"}}})
with llmtap.LLMTracer().trace_llm_call(model_name="m", prompt="Hi") as span:
    span.set_response("Hello")
    span.set_tag("user_id", "u1")
print(loaded())
span.set_tag("human_feedback", "yes")
print("llmtap.annotations.api" in sys.modules, "itsdangerous" in sys.modules)
"""


def test_capture_does_not_import_annotations() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.splitlines() == [
        "[]",
        "['llmtap.annotations', 'llmtap.annotations.schema']",  # the schemas are checked when llmtap is set up
        "True False",
    ]
