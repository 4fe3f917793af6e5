"""Routing with zero set-up: `llmtap.instrument()` with nothing configured records into the local store through a
provider of llmtap's own, and the rules of the config file run on it while the application runs — the errored
trace goes to the review queue and gets its `tag:` label as soon as it ends, not only when the process exits.

The application runs in a fresh process, in its own working directory (its pyproject.toml holds the rules),
against the loopback OpenAI fake; it reads the store itself while still running.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from llmtap.store import open_store
from tests.core.test_launcher import COMPLETION
from tests.support.environment import child_env
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.openai_wire import error_body

PYPROJECT = """
[tool.llmtap.annotations.verdict]
type = "text"

[tool.llmtap.queues.review]
annotations = ["verdict"]

[[tool.llmtap.routes]]
name = "errors"
when = "trace.error"
actions = ["queue:review", "tag:triage=needed"]
"""

APP = """
import json, time
import llmtap, openai
from llmtap.store import TraceQuery, open_store

llmtap.instrument()
client = openai.OpenAI(max_retries=0)
client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
try:
    client.chat.completions.create(model="gpt-5-nope", messages=[{"role": "user", "content": "hi"}])
except openai.NotFoundError:
    pass
store = open_store(".llmtap/llmtap.db")
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    queued = store.queue_item_traces("review")
    tagged = [t.trace_id for t in store.query_traces(TraceQuery(labels={"triage": "needed"}))]
    if queued and tagged:
        break
    time.sleep(0.05)
errored = [t.trace_id for t in store.query_traces(TraceQuery(errors=True))]
print(json.dumps({"errored": errored, "queued": queued, "tagged": tagged}))
"""


def test_rules_route_live_traces_into_the_default_store(tmp_path: Path) -> None:
    def chat(request):
        if request.body["model"] == "gpt-5-nope":
            return Reply(
                404,
                error_body(
                    "The model `gpt-5-nope` does not exist", kind="invalid_request_error", code="model_not_found"
                ),
            )
        return Reply(body=COMPLETION)

    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "app.py").write_text(APP)
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", chat)
        env = {
            **child_env(),
            "OPENAI_API_KEY": "sk-routing-0123456789",
            "OPENAI_BASE_URL": f"{api.base_url}/v1",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        result = subprocess.run(
            [sys.executable, "app.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert len(found["errored"]) == 1
    assert found["queued"] == [[found["errored"][0], "pending", "errors"]]
    assert found["tagged"] == found["errored"]


PENDING_PYPROJECT = """
[tool.llmtap.annotations.verdict]
type = "categorical"
values = ["good", "bad"]

[tool.llmtap.queues.review]
annotations = ["verdict"]

[[tool.llmtap.routes]]
name = "bad"
when = 'annotations.verdict == "bad"'
actions = ["queue:review"]
"""

PENDING_APP = """
import llmtap, openai

llmtap.instrument()
client = openai.OpenAI(max_retries=0)
for message_id in ("m-1", "m-2"):
    with llmtap.tags(message_id=message_id):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
"""


def test_feedback_kept_pending_routes_the_trace_that_arrives_with_its_key(tmp_path: Path) -> None:
    # A front end's verdict by join key arrives (another process) before any span carries the key: the store keeps
    # it pending. The application's trace with that key is routed with it as it ends, though the store links the
    # two only when the trace's spans are written (its batch processor, after routing saw the trace end).
    (tmp_path / "pyproject.toml").write_text(PENDING_PYPROJECT)
    (tmp_path / "app.py").write_text(PENDING_APP)
    env = {**child_env(), "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    llmtap = str(Path(sys.executable).parent / "llmtap")
    open_store(tmp_path / ".llmtap" / "llmtap.db").close()  # the store the application records into, empty yet
    given = subprocess.run(
        [llmtap, "annotate", "message_id=m-2", "verdict", "bad", "--store", ".llmtap/llmtap.db"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert given.returncode == 0, given.stderr
    assert given.stdout == "kept pending (no stored span matches message_id=m-2 yet): verdict = 'bad'\n"
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        env |= {"OPENAI_API_KEY": "sk-routing-0123456789", "OPENAI_BASE_URL": f"{api.base_url}/v1"}
        result = subprocess.run(
            [sys.executable, "app.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 0, result.stderr
    listed = subprocess.run(
        [llmtap, "traces", "--label", "message_id=m-2", "--json"], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    (trace,) = json.loads(listed.stdout)
    queue = subprocess.run(
        [llmtap, "queue", "show", "review", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert queue.returncode == 0, queue.stderr
    assert [(item["trace_id"], item["state"], item["rule"]) for item in json.loads(queue.stdout)["items"]] == [
        (trace["trace_id"], "pending", "bad")
    ]
