from __future__ import annotations

import json

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda

from tests.langchain.support import KeywordRetriever, named, tree
from tests.support.telemetry import Telemetry, attribute_json

ANSWER = AIMessage(
    content="Paris.",
    usage_metadata={
        "input_tokens": 30,
        "output_tokens": 3,
        "total_tokens": 33,
        "input_token_details": {"cache_read": 10},
        "output_token_details": {"reasoning": 1},
    },
)


def rag_chain(model: GenericFakeChatModel):
    prompt = ChatPromptTemplate.from_messages([("system", "Answer from: {context}"), ("human", "{question}")])
    join = RunnableLambda(lambda docs: " ".join(doc.page_content for doc in docs)).with_config(run_name="join")
    return (
        {"context": KeywordRetriever() | join, "question": RunnableLambda(lambda q: q).with_config(run_name="ask")}
        | prompt
        | model
        | StrOutputParser()
    ).with_config(run_name="rag")


def test_rag_chain_is_one_tree_with_retrieved_documents(instrumented: Telemetry) -> None:
    model = GenericFakeChatModel(messages=iter([ANSWER]))
    result = rag_chain(model).invoke("capital of France?", config={"tags": ["beta"], "metadata": {"tenant": "acme"}})

    assert result == "Paris."
    spans = instrumented.genai_spans()
    assert tree(spans) == [
        (
            "invoke_workflow rag",
            [
                (
                    "invoke_workflow RunnableParallel<context,question>",
                    [
                        ("invoke_workflow RunnableSequence", ["retrieval KeywordRetriever", "invoke_workflow join"]),
                        "invoke_workflow ask",
                    ],
                ),
                "invoke_workflow ChatPromptTemplate",
                "chat",
                "invoke_workflow StrOutputParser",
            ],
        )
    ]
    assert len({span.context.trace_id for span in spans}) == 1

    retrieval = named(spans, "retrieval KeywordRetriever")
    assert retrieval.attributes["gen_ai.operation.name"] == "retrieval"
    assert retrieval.attributes["gen_ai.data_source.id"] == "KeywordRetriever"
    assert retrieval.attributes["gen_ai.retrieval.query.text"] == "capital of France?"
    assert attribute_json(retrieval, "gen_ai.retrieval.documents") == [
        {
            "id": "doc-1",
            "score": 0.92,
            "metadata": {"score": 0.92, "source": "wiki"},
            "content": "Paris is the capital of France.",
        },
        {
            "id": "doc-2",
            "score": 0.41,
            "metadata": {"score": 0.41, "source": "atlas"},
            "content": "France is in Europe.",
        },
    ]

    chat = named(spans, "chat")
    attributes = dict(chat.attributes)
    assert json.loads(attributes.pop("gen_ai.input.messages")) == [
        {
            "role": "system",
            "parts": [{"type": "text", "content": "Answer from: Paris is the capital of France. France is in Europe."}],
        },
        {"role": "user", "parts": [{"type": "text", "content": "capital of France?"}]},
    ]
    assert json.loads(attributes.pop("gen_ai.output.messages")) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Paris."}], "finish_reason": "stop"}
    ]
    attributes.pop("llmtap.langchain.run_id")
    assert attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "genericfakechatmodel",
        "gen_ai.usage.input_tokens": 30,
        "gen_ai.usage.output_tokens": 3,
        "gen_ai.usage.cache_read.input_tokens": 10,
        "gen_ai.usage.reasoning.output_tokens": 1,
        "llmtap.langchain.tags": ("beta",),  # LangChain's own `seq:step:3` left out
        "llmtap.langchain.metadata.tenant": "acme",
        "llmtap.langchain.model_class": "GenericFakeChatModel",
        "llmtap.langchain.ls_provider": "genericfakechatmodel",
        "llmtap.langchain.ls_model_type": "chat",
        "llmtap.langchain.ls_integration": "langchain_chat_model",
    }
    root = named(spans, "invoke_workflow rag")
    assert root.attributes["gen_ai.workflow.name"] == "rag"
    assert root.attributes["llmtap.langchain.tags"] == ("beta",)
    assert root.attributes["llmtap.langchain.metadata.tenant"] == "acme"

    # A model no provider plugin sees: its LangChain span records the token metrics, once.
    tokens = instrumented.metric_points("gen_ai.client.token.usage")
    assert sorted((point.attributes["gen_ai.token.type"], point.sum, point.count) for point in tokens) == [
        ("input", 30, 1),
        ("output", 3, 1),
    ]


def test_content_policy_keeps_document_ids_scores_and_metadata_only(instrumented: Telemetry, monkeypatch) -> None:
    instrumented.reinstrument(capture_content=False)
    model = GenericFakeChatModel(messages=iter([ANSWER]))
    assert rag_chain(model).invoke("capital of France?") == "Paris."

    spans = instrumented.genai_spans()
    retrieval = named(spans, "retrieval KeywordRetriever")
    assert "gen_ai.retrieval.query.text" not in retrieval.attributes  # the query is content (the user's words)
    assert attribute_json(retrieval, "gen_ai.retrieval.documents") == [
        {"id": "doc-1", "score": 0.92, "metadata": {"score": 0.92, "source": "wiki"}},
        {"id": "doc-2", "score": 0.41, "metadata": {"score": 0.41, "source": "atlas"}},
    ]
    chat = named(spans, "chat")
    assert "gen_ai.input.messages" not in chat.attributes
    assert "gen_ai.output.messages" not in chat.attributes
