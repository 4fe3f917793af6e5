"""Part 4 · Labels: process labels, `with llmtap.tags(...)`, the label schema (warn mode), `llmtap.current_tags()`.

The process labels and the schema are given to `llmtap.instrument(config=...)` in demo.py (the same keys as
`[tool.llmtap]` in pyproject.toml; `LLMTAP_TAGS=deployment=demo` in the environment does the same).
"""

from __future__ import annotations

import demo_openai
from demo_output import Telemetry, app, header
from tests.support.loopback import LoopbackAPI

import llmtap

# The label schema: every label the demo uses is declared (in warn mode an unknown key is logged too).
SCHEMA = {
    "deployment": {"type": "string"},
    "user_id": {"type": "string", "description": "end user"},
    "session_id": {"type": "string"},
    "feature_flag": {"type": "enum", "values": ["new-rag", "old-rag"]},
    "app_feature": {"type": "string"},
    "human_feedback": {"type": "enum", "values": ["good", "bad"]},
}
demo_openai.ANSWERS.update({"Summarise my inbox": "3 new mails, none urgent.", "And my calendar?": "Free all day."})


def run(api: LoopbackAPI, telemetry: Telemetry) -> None:
    header(4, "Labels: process labels, llmtap.tags(...), the label schema (warn mode), llmtap.current_tags()")
    client = demo_openai.client(api)
    app_tracer = telemetry.tracer_provider.get_tracer("demo-app")  # the application's own spans
    app("outside any block, llmtap.current_tags() =", llmtap.current_tags())

    with llmtap.tags(user_id="u-42", session_id="s-7", feature_flag="new-rag"):
        app('in llmtap.tags(user_id="u-42", session_id="s-7", feature_flag="new-rag"), current_tags() =')
        app("   ", llmtap.current_tags())
        with app_tracer.start_as_current_span("POST /assistant"):  # labels go on every span, not only LLM ones
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Summarise my inbox"}]
            )
            with llmtap.tags(feature_flag="old-rag"):  # blocks nest and merge; the inner value wins
                app('nested llmtap.tags(feature_flag="old-rag"), current_tags() =')
                app("   ", llmtap.current_tags())
                client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "And my calendar?"}]
                )

    app("a value the schema does not allow, feature_flag='beta' (warn mode: logged once, kept):")
    with llmtap.tags(user_id="u-43", feature_flag="beta"):
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Summarise my inbox"}]
        )
    telemetry.show_new_spans()
