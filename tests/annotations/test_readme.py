"""The README's Flask feedback handler, run verbatim against Flask's test client."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import llmtap
from tests.annotations.conftest import Setup, ids, record_ids

README = Path(__file__).resolve().parents[2] / "README.md"


def _handler_source() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("A Flask handler receiving thumbs up/down", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_readme_flask_feedback_handler(annotating: Setup) -> None:
    state = annotating()
    namespace: dict[str, Any] = {"__name__": "feedback_app"}
    exec(compile(_handler_source(), str(README), "exec"), namespace)
    client = namespace["app"].test_client()
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Capital of France?") as span:
        ref = span.ref
    token = llmtap.feedback_token(ref, names=["human_feedback"])
    reply = client.post("/feedback", json={"token": token, "rating": "down", "comment": "It is Paris."})
    assert (reply.status_code, reply.get_json()) == (200, {"ok": True})
    again = client.post("/feedback", json={"token": token, "rating": "up"})
    assert again.status_code == 400
    assert again.get_json() == {
        "error": "feedback token refused: it was already used for annotation 'human_feedback'; each token allows one "
        "'human_feedback'"
    }
    record = state.only_record()
    assert record_ids(record) == ids(state.telemetry.only_span())
    attributes = dict(record.log_record.attributes)
    assert (attributes["gen_ai.evaluation.score.label"], attributes["gen_ai.evaluation.explanation"]) == (
        "bad",
        "It is Paris.",
    )
    assert attributes["llmtap.annotation.annotator_kind"] == "end_user"
