"""`@llmtap.workflow/agent/tool/retrieval` on every function kind."""

from __future__ import annotations

import pytest
from opentelemetry.trace import StatusCode

import llmtap
from tests.labels.conftest import Setup, tag_attributes


def test_sync_tool_and_agent_nested_in_a_workflow(labelled: Setup) -> None:
    telemetry = labelled()

    @llmtap.tool(description="adds two numbers")
    def add(a: int, b: int) -> int:
        return a + b

    @llmtap.agent(name="calculator", agent_id="agent-1", version="2")
    def calculate(x: int) -> int:
        return add(x, 1)

    @llmtap.workflow(name="pipeline")
    def pipeline(x: int) -> int:
        with llmtap.tags(user_id="u1"):
            return calculate(x)

    assert pipeline(41) == 42
    tool_span, agent_span, workflow_span = telemetry.spans()
    assert tool_span.name == "execute_tool add"
    assert tool_span.parent.span_id == agent_span.context.span_id
    assert agent_span.parent.span_id == workflow_span.context.span_id
    assert dict(tool_span.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "openinference.span.kind": "TOOL",
        "gen_ai.tool.description": "adds two numbers",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.name": "add",
        "gen_ai.tool.call.arguments": '{"a":41,"b":1}',
        "llmtap.tag.user_id": "u1",
        "user.id": "u1",
        "gen_ai.tool.call.result": "42",
    }
    assert agent_span.name == "invoke_agent calculator"
    assert dict(agent_span.attributes) == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.id": "agent-1",
        "gen_ai.agent.version": "2",
        "gen_ai.agent.name": "calculator",
        "openinference.span.kind": "AGENT",
        "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"{\\"x\\":41}"}]}]',
        "input.value": '{"x":41}',
        "input.mime_type": "application/json",
        "llmtap.tag.user_id": "u1",
        "user.id": "u1",
        "gen_ai.output.messages": (
            '[{"role":"assistant","parts":[{"type":"text","content":"42"}],"finish_reason":"stop"}]'
        ),
        "output.value": "42",
        "output.mime_type": "application/json",
    }
    assert workflow_span.name == "invoke_workflow pipeline"
    assert tag_attributes(workflow_span) == {}
    assert workflow_span.attributes["gen_ai.workflow.name"] == "pipeline"


async def test_async_retrieval(labelled: Setup) -> None:
    telemetry = labelled()

    @llmtap.retrieval(data_source_id="docs-index")
    async def search(query: str, k: int = 2) -> list[dict]:
        return [{"id": "d1", "score": 0.9}][:k]

    assert await search("capital of France") == [{"id": "d1", "score": 0.9}]
    (span,) = telemetry.spans()
    assert span.name == "retrieval search"
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "retrieval",
        "openinference.span.kind": "RETRIEVER",
        "gen_ai.data_source.id": "docs-index",
        "gen_ai.retrieval.query.text": "capital of France",
        "input.value": "capital of France",
        "input.mime_type": "text/plain",
        "llmtap.function.arguments": '{"query":"capital of France"}',
        "gen_ai.retrieval.documents": '[{"id":"d1","score":0.9}]',
        "output.value": '[{"id":"d1","score":0.9}]',
        "output.mime_type": "application/json",
    }


def test_generator_workflow_spans_the_iteration_and_is_current_in_its_steps(labelled: Setup) -> None:
    telemetry = labelled()
    tracer = telemetry.tracer_provider.get_tracer("app")

    @llmtap.workflow
    def stream(n: int):
        for index in range(n):
            tracer.start_span(f"step {index}").end()
            yield index

    assert list(stream(2)) == [0, 1]
    step0, step1, workflow_span = telemetry.spans()
    assert workflow_span.name == "invoke_workflow stream"
    assert step0.parent.span_id == workflow_span.context.span_id
    assert step1.parent.span_id == workflow_span.context.span_id
    assert workflow_span.attributes["output.value"] == "[0,1]"


def test_generator_result_keeps_at_most_the_first_thousand_items(labelled: Setup) -> None:
    telemetry = labelled()

    @llmtap.workflow
    def count(n: int):
        yield from range(n)

    assert sum(1 for _ in count(1500)) == 1500
    (span,) = telemetry.spans()
    assert span.attributes["output.value"] == "[" + ",".join(map(str, range(1000))) + "]"


async def test_async_generator_agent_error(labelled: Setup) -> None:
    telemetry = labelled()

    @llmtap.agent
    async def chatter():
        yield "hello"
        raise ConnectionError("upstream gone")

    received = []
    with pytest.raises(ConnectionError, match="upstream gone"):
        async for item in chatter():
            received.append(item)
    assert received == ["hello"]
    (span,) = telemetry.spans()
    assert span.name == "invoke_agent chatter"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "upstream gone"
    assert span.attributes["error.type"] == "ConnectionError"


def test_sync_exception_inside_labelled_block(labelled: Setup) -> None:
    telemetry = labelled()

    @llmtap.tool
    def explode() -> None:
        raise ValueError("no such city")

    with pytest.raises(ValueError, match="no such city"), llmtap.tags(session_id="s1"):
        explode()
    (span,) = telemetry.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "ValueError"
    assert tag_attributes(span) == {"llmtap.tag.session_id": "s1", "session.id": "s1"}
    assert llmtap.current_tags() == {}


def test_generator_closed_early_ends_the_span_without_error(labelled: Setup) -> None:
    telemetry = labelled()

    @llmtap.tool
    def numbers():
        yield 1
        yield 2

    stream = numbers()
    assert next(stream) == 1
    stream.close()
    (span,) = telemetry.spans()
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes["gen_ai.tool.call.result"] == "[1]"


def test_content_capture_off_records_no_arguments(labelled: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTAP_CAPTURE_CONTENT", "false")
    telemetry = labelled()

    @llmtap.tool
    def secret(password: str) -> str:
        return password[::-1]

    assert secret("hunter2") == "2retnuh"
    (span,) = telemetry.spans()
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "openinference.span.kind": "TOOL",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.name": "secret",
    }


def test_with_content_off_a_failing_tool_reveals_only_the_error_type(
    labelled: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMTAP_CAPTURE_CONTENT", "false")
    telemetry = labelled()

    @llmtap.tool
    def lookup(account: str) -> str:
        raise KeyError(f"no account {account}")

    with pytest.raises(KeyError):
        lookup("SECRET-ACCOUNT")
    (span,) = telemetry.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "KeyError"
    assert span.attributes["error.type"] == "KeyError"
    assert "SECRET" not in telemetry.everything_exported()


def test_a_long_retrieval_query_is_cut_and_the_cut_counted(labelled: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTAP_MAX_CONTENT_CHARS", "20")
    telemetry = labelled()

    @llmtap.retrieval
    def search(query: str) -> list[str]:
        return ["doc"]

    search("what is the capital city of France, please?")
    (span,) = telemetry.spans()
    assert span.attributes["gen_ai.retrieval.query.text"] == "what is the capital "
    assert span.attributes["llmtap.truncated.gen_ai.retrieval.query.text"] == 43 - 20
