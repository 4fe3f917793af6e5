"""Labels under the `opentelemetry-instrument` launcher, where nobody calls `llmtap.instrument()`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.core.test_launcher import COMPLETION
from tests.support.environment import child_env
from tests.support.loopback import LoopbackAPI, Reply

SCRIPT = """
import llmtap
import openai

client = openai.OpenAI()
with llmtap.tags(user_id="u1", retries="2"):
    labelled = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hi"}])
    print("APP tags:", sorted(llmtap.current_tags().items()))
unlabelled = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Again"}])
print("APP:", labelled.choices[0].message.content, unlabelled.choices[0].message.content)
"""

PYPROJECT = """
[project]
name = "launched-app"
version = "0"

[tool.llmtap.labels.user_id]
type = "string"
required = true

[tool.llmtap.labels.retries]
type = "int"

[tool.llmtap.labels.app_feature]
type = "enum"
values = ["search", "chat"]
"""


def _json_objects(text: str) -> list[dict[str, Any]]:
    """The console exporters print one indented JSON object per span and per metrics export."""
    decoder, found, index = json.JSONDecoder(), [], text.find("{")
    while index != -1:
        item, end = decoder.raw_decode(text, index)
        found.append(item)
        index = text.find("{", end)
    return found


def _metric_points(objects: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [
        point
        for item in objects
        for resource in item.get("resource_metrics", ())
        for scope in resource["scope_metrics"]
        for metric in scope["metrics"]
        if metric["name"] == name
        for point in metric["data"]["data_points"]
    ]


def test_env_and_context_labels_on_the_chat_span_under_the_launcher(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(SCRIPT)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)  # the label schema, found from the working directory
    launcher = Path(sys.executable).with_name("opentelemetry-instrument")
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=COMPLETION))
        env = {
            **child_env(),
            "OPENAI_API_KEY": "sk-launcher-SECRET-0123456789",
            "OPENAI_BASE_URL": f"{api.base_url}/v1",
            "OTEL_TRACES_EXPORTER": "console",
            "OTEL_METRICS_EXPORTER": "console",
            "OTEL_METRIC_EXPORT_INTERVAL": "600000",  # one export, at shutdown
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_SERVICE_NAME": "launcher-app",
            "LLMTAP_TAGS": "app_feature=search",
            "LLMTAP_STORE": "off",
        }
        result = subprocess.run(
            [str(launcher), sys.executable, "app.py"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    assert "APP tags: [('app_feature', 'search'), ('retries', 2), ('user_id', 'u1')]" in result.stdout
    assert "APP: Hi! Hi!" in result.stdout
    objects = _json_objects(result.stdout)
    chats = [item for item in objects if item.get("name") == "chat gpt-4o-mini"]
    assert len(chats) == 2, result.stdout
    labels = ("llmtap.tag.", "user.")
    assert {key: value for key, value in chats[0]["attributes"].items() if key.startswith(labels)} == {
        "llmtap.tag.app_feature": "search",
        "llmtap.tag.user_id": "u1",
        "user.id": "u1",
        "llmtap.tag.retries": 2,
    }
    assert {key: value for key, value in chats[1]["attributes"].items() if key.startswith(labels)} == {
        "llmtap.tag.app_feature": "search",
    }
    assert chats[0]["attributes"]["gen_ai.response.id"] == "chatcmpl-launcher1"
    assert chats[0]["resource"]["attributes"]["service.name"] == "launcher-app"
    # The second call lacks the required user_id: counted through the launcher's global meter provider, logged once.
    assert [(point["attributes"], point["value"]) for point in _metric_points(objects, "llmtap.labels.dropped")] == [
        ({"llmtap.label.key": "user_id", "llmtap.label.reason": "missing_required"}, 1)
    ]
    assert result.stderr.count("has no label 'user_id', which the label schema marks required") == 1
    assert "sk-launcher-SECRET" not in result.stdout + result.stderr
