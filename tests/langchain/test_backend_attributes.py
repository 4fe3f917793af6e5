"""What backends read on LangChain's chain and retriever spans: input/output, span kind, documents, errors."""

from __future__ import annotations

import json

import pytest
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableLambda

from tests.langchain.support import KeywordRetriever, named
from tests.langchain.test_rag import ANSWER, rag_chain
from tests.support.telemetry import Telemetry, attribute_json

UNSCORED = [
    Document(page_content="Paris is the capital of France.", metadata={"source": "wiki"}),
    Document(id="doc-2", page_content="France is in Europe."),
]


def test_chain_spans_carry_input_and_output(instrumented: Telemetry) -> None:
    model = GenericFakeChatModel(messages=iter([ANSWER]))
    assert rag_chain(model).invoke("capital of France?") == "Paris."

    root = named(instrumented.genai_spans(), "invoke_workflow rag")
    assert root.attributes["openinference.span.kind"] == "CHAIN"
    # The conventions' messages, and the span input/output Phoenix, MLflow and Langfuse show.
    assert attribute_json(root, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "capital of France?"}]}
    ]
    assert attribute_json(root, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Paris."}], "finish_reason": "stop"}
    ]
    assert (root.attributes["input.value"], root.attributes["input.mime_type"]) == ("capital of France?", "text/plain")
    assert (root.attributes["output.value"], root.attributes["output.mime_type"]) == ("Paris.", "text/plain")

    parallel = named(instrumented.genai_spans(), "invoke_workflow RunnableParallel<context,question>")
    assert attribute_json(parallel, "output.value") == {
        "context": "Paris is the capital of France. France is in Europe.",
        "question": "capital of France?",
    }
    assert parallel.attributes["output.mime_type"] == "application/json"

    retrieval = named(instrumented.genai_spans(), "retrieval KeywordRetriever")
    assert retrieval.attributes["openinference.span.kind"] == "RETRIEVER"
    assert retrieval.attributes["input.value"] == "capital of France?"
    # Every document has an id and a score: Phoenix reads the conventions' list, no second copy is written.
    assert [key for key in retrieval.attributes if key.startswith("retrieval.documents.")] == []
    assert attribute_json(retrieval, "output.value") == attribute_json(retrieval, "gen_ai.retrieval.documents")


def test_chat_messages_in_and_out_of_a_chain_are_messages(instrumented: Telemetry) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="Hi there.")]))
    chain = RunnableLambda(lambda messages: messages).with_config(run_name="relay") | model
    chain.with_config(run_name="talk").invoke([HumanMessage(content="Hello")])

    root = named(instrumented.genai_spans(), "invoke_workflow talk")
    assert attribute_json(root, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "Hello"}]}
    ]
    assert attribute_json(root, "input.value") == [{"role": "user", "parts": [{"type": "text", "content": "Hello"}]}]
    assert attribute_json(root, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hi there."}], "finish_reason": "stop"}
    ]


def test_documents_without_score_or_id_are_written_as_given_and_for_phoenix(instrumented: Telemetry) -> None:
    KeywordRetriever(docs=UNSCORED).invoke("capital of France?")

    retrieval = named(instrumented.genai_spans(), "retrieval KeywordRetriever")
    # The conventions' shape, with no invented score and no null id.
    assert attribute_json(retrieval, "gen_ai.retrieval.documents") == [
        {"metadata": {"source": "wiki"}, "content": "Paris is the capital of France."},
        {"id": "doc-2", "content": "France is in Europe."},
    ]
    # Phoenix drops that whole list (it requires a score); OpenInference's keys show the documents without one.
    assert {key: value for key, value in retrieval.attributes.items() if key.startswith("retrieval.")} == {
        "retrieval.documents.0.document.content": "Paris is the capital of France.",
        "retrieval.documents.0.document.metadata": '{"source":"wiki"}',
        "retrieval.documents.1.document.id": "doc-2",
        "retrieval.documents.1.document.content": "France is in Europe.",
    }


def test_with_content_off_chain_spans_carry_no_input_output_or_document_text(instrumented: Telemetry) -> None:
    instrumented.reinstrument(capture_content=False)
    model = GenericFakeChatModel(messages=iter([ANSWER]))
    assert rag_chain(model).invoke("capital of France?") == "Paris."
    KeywordRetriever(docs=UNSCORED).invoke("capital of France?")

    exported = instrumented.everything_exported()
    for needle in ("capital of France", "Paris", "input.value", "output.value", "gen_ai.input.messages"):
        assert needle not in exported
    spans = instrumented.genai_spans()
    assert named(spans, "invoke_workflow rag").attributes["openinference.span.kind"] == "CHAIN"
    unscored = spans[-1]
    assert {key: value for key, value in unscored.attributes.items() if key.startswith("retrieval.")} == {
        "retrieval.documents.0.document.metadata": '{"source":"wiki"}',
        "retrieval.documents.1.document.id": "doc-2",
    }


def _fail(question: str) -> str:
    raise ValueError(f"no answer for {question!r}")


@pytest.mark.parametrize("capture", [True, False])
def test_a_failed_chain_has_an_exception_event(instrumented: Telemetry, capture: bool) -> None:
    instrumented.reinstrument(capture_content=capture)
    with pytest.raises(ValueError, match="no answer"):
        RunnableLambda(_fail).with_config(run_name="broken").invoke("sk-proj-abcdefghijklmnop")

    span = named(instrumented.genai_spans(), "invoke_workflow broken")
    assert span.attributes["error.type"] == "ValueError"
    [event] = span.events
    assert event.name == "exception"
    if not capture:
        assert dict(event.attributes) == {"exception.type": "ValueError"}
        assert span.status.description == "ValueError"
        return
    # The message and stack trace under content capture, key-shaped tokens scrubbed.
    assert event.attributes["exception.type"] == "ValueError"
    assert event.attributes["exception.message"] == "no answer for '[REDACTED]'"
    assert span.status.description == "no answer for '[REDACTED]'"
    stack = event.attributes["exception.stacktrace"]
    assert stack.endswith("ValueError: no answer for '[REDACTED]'\n")
    assert "raise ValueError" in stack
    assert "sk-proj" not in json.dumps(dict(event.attributes))
