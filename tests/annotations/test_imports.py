"""The capture path never loads the annotations package (nor its signing library)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import llmtap
from opentelemetry.sdk.trace import TracerProvider
llmtap.instrument(tracer_provider=TracerProvider(), config={"annotations": {"human_feedback": {"type": "boolean"}}})
with llmtap.LLMTracer().trace_llm_call(model_name="m", prompt="Hi") as span:
    span.set_response("Hello")
    span.set_tag("user_id", "u1")
print(sorted(name for name in sys.modules if name.startswith("llmtap.annotations") or name == "itsdangerous"))
span.set_tag("human_feedback", "yes")
print("llmtap.annotations.api" in sys.modules)
"""


def test_capture_does_not_import_annotations() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.splitlines() == ["[]", "True"]
