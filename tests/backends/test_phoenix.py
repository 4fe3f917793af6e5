"""A real Phoenix server (arize-phoenix from PyPI, its own virtual environment) receives the demo application's
spans over OTLP/HTTP; what it shows is read back through its own REST and GraphQL APIs.

The first run on a machine builds Phoenix's environment (about 850 MB, one to a few minutes; cached outside the
clone, see `tests/backends/phoenix_server.py`); starting the server takes a few seconds to a few minutes on a
busy machine. Every wait is bounded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.backends import demo_app
from tests.backends.phoenix_server import Phoenix, phoenix_server
from tests.support.environment import child_env

ROOT = Path(__file__).resolve().parents[2]
APP_TIMEOUT = 300  # s
INGEST_TIMEOUT = 120  # s until the spans are queryable
EXPECTED_ROOTS = {"chat gpt-4o-mini", "invoke_workflow rag", "chat gpt-unknown"}

SPAN_QUERY = """
query ($id: ID!) {
  node(id: $id) {
    ... on Span {
      spanKind
      input { value mimeType }
      output { value mimeType }
      metadata
      numDocuments
      tokenCountTotal
      cumulativeTokenCountTotal
      events { name message }
    }
  }
}
"""


class Shown:
    """The application's spans as Phoenix shows them."""

    def __init__(self, phoenix: Phoenix, spans: list[dict[str, Any]]) -> None:
        self.phoenix = phoenix
        self.spans = spans

    def named(self, name: str) -> list[dict[str, Any]]:
        return [span for span in self.spans if span["name"] == name]

    def one(self, name: str) -> dict[str, Any]:
        [span] = self.named(name)
        return span

    def trace_of(self, span: dict[str, Any]) -> list[dict[str, Any]]:
        trace_id = span["context"]["trace_id"]
        return [other for other in self.spans if other["context"]["trace_id"] == trace_id]

    def graphql(self, span: dict[str, Any]) -> dict[str, Any]:
        return self.phoenix.graphql(SPAN_QUERY, id=span["id"])["node"]


def _run_app(phoenix: Phoenix) -> None:
    env = child_env()
    env.update(
        OTEL_EXPORTER_OTLP_ENDPOINT=phoenix.base_url,
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_SERVICE_NAME="llmtap-backends-test",
        LLMTAP_STORE="off",
        LLMTAP_TAGS="deployment=ci",
        LLMTAP_BACKEND_LABELS="true",
        PYTHONPATH=str(ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-m", "tests.backends.demo_app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=APP_TIMEOUT,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shown]:
    with phoenix_server(tmp_path_factory.mktemp("phoenix")) as phoenix:
        _run_app(phoenix)
        deadline = time.monotonic() + INGEST_TIMEOUT
        while True:  # Phoenix ingests in the background
            spans = phoenix.spans()
            roots = {span["name"] for span in spans if span["parent_id"] is None}
            if roots >= EXPECTED_ROOTS and len(spans) == len({span["context"]["span_id"] for span in spans}):
                time.sleep(1.0)  # a last batch may still be in flight
                spans = phoenix.spans()
                break
            assert time.monotonic() < deadline, f"Phoenix shows only {sorted(span['name'] for span in spans)}"
            time.sleep(1.0)
        yield Shown(phoenix, spans)


def test_model_span_with_model_tokens_messages_and_tool_calls(shown: Shown) -> None:
    [span] = [span for span in shown.named("chat gpt-4o-mini") if span["parent_id"] is None]
    assert span["span_kind"] == "LLM"
    attributes = span["attributes"]
    assert attributes["llm.model_name"] == "gpt-4o-mini"
    assert attributes["llm.provider"] == "openai"
    assert (attributes["llm.token_count.prompt"], attributes["llm.token_count.completion"]) == demo_app.TOOL_USAGE
    assert attributes["llm.token_count.total"] == sum(demo_app.TOOL_USAGE)
    assert attributes["llm.input_messages.0.message.role"] == "user"
    assert attributes["llm.input_messages.0.message.content"] == demo_app.TOOL_QUESTION
    calls = [
        {
            key.rsplit(".", 1)[-1] if not key.endswith("function.name") else "name": value
            for key, value in attributes.items()
            if key.startswith(f"llm.output_messages.0.message.tool_calls.{index}.")
        }
        for index in (0, 1)
    ]
    assert calls == [
        {"id": "call_Paris", "name": "get_weather", "arguments": '{"location": "Paris"}'},
        {"id": "call_Oslo", "name": "get_weather", "arguments": '{"location": "Oslo"}'},
    ]
    assert attributes["llm.output_messages.0.message.finish_reason"] == "tool_call"
    assert json.loads(attributes["llm.tools.0.tool.json_schema"])["function"]["name"] == "get_weather"
    assert shown.graphql(span)["tokenCountTotal"] == sum(demo_app.TOOL_USAGE)


def test_retriever_documents_without_scores(shown: Shown) -> None:
    span = shown.one("retrieval KeywordRetriever")
    assert span["span_kind"] == "RETRIEVER"
    documents = {key: value for key, value in span["attributes"].items() if key.startswith("retrieval.documents.")}
    assert documents == {
        "retrieval.documents.0.document.id": "doc-paris",
        "retrieval.documents.0.document.content": "Paris is the capital of France.",
        "retrieval.documents.0.document.metadata.source": "wiki",
        "retrieval.documents.1.document.content": "France is in Europe.",
        "retrieval.documents.1.document.metadata.source": "atlas",
    }
    node = shown.graphql(span)
    assert node["numDocuments"] == 2
    assert node["input"] == {"value": demo_app.QUESTION, "mimeType": "text"}


def test_chain_spans_with_input_and_output(shown: Shown) -> None:
    root = shown.one("invoke_workflow rag")
    assert root["span_kind"] == "CHAIN"
    node = shown.graphql(root)
    assert node["input"] == {"value": demo_app.QUESTION, "mimeType": "text"}
    assert node["output"] == {"value": demo_app.ANSWER, "mimeType": "text"}
    parallel = shown.one("invoke_workflow RunnableParallel<context,question>")
    assert json.loads(shown.graphql(parallel)["output"]["value"]) == {
        "context": "Paris is the capital of France. France is in Europe.",
        "question": demo_app.QUESTION,
    }
    workflows = [span for span in shown.trace_of(root) if span["name"].startswith("invoke_workflow ")]
    assert all(shown.graphql(span)["output"] is not None for span in workflows)


def test_labels_as_metadata(shown: Shown) -> None:
    [span] = [span for span in shown.named("chat gpt-4o-mini") if span["parent_id"] is None]
    assert json.loads(shown.graphql(span)["metadata"]) == {
        "deployment": "ci",
        "user_id": "u-42",
        "feature_flag": "new-rag",
    }
    assert span["attributes"]["user.id"] == "u-42"
    assert json.loads(shown.graphql(shown.one("invoke_workflow rag"))["metadata"]) == {"deployment": "ci"}


def test_error_type(shown: Shown) -> None:
    span = shown.one("chat gpt-unknown")
    assert span["status_code"] == "ERROR"
    message = "Error code: 404 - " + demo_app.NOT_FOUND
    assert span["status_message"] == message
    [event] = span["events"]
    assert event["name"] == "exception"
    assert event["attributes"]["exception.type"] == "openai.NotFoundError"
    assert event["attributes"]["exception.message"] == message
    assert shown.graphql(span)["events"] == [{"name": "exception", "message": message}]


def test_token_usage_counted_once_per_trace(shown: Shown) -> None:
    root = shown.one("invoke_workflow rag")
    # Phoenix sums usage over every span of a trace: the chain's one API call carries it on one span only.
    model_spans = [span for span in shown.trace_of(root) if "llm.token_count.total" in span["attributes"]]
    assert [span["name"] for span in model_spans] == ["chat gpt-4o-mini"]
    assert shown.graphql(root)["cumulativeTokenCountTotal"] == sum(demo_app.RAG_USAGE)
