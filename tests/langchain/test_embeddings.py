"""LangChain `Embeddings` (no LangChain callbacks): one `embeddings {model}` span per call."""

from __future__ import annotations

import base64
import hashlib
import struct
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda
from langchain_openai import OpenAIEmbeddings
from openai.types import CreateEmbeddingResponse
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

import llmtap
from tests.langchain.support import DOCS, named, tree
from tests.support.cost import with_cost
from tests.support.loopback import LoopbackAPI, Reply, Request
from tests.support.openai_wire import check
from tests.support.telemetry import Telemetry

METHODS = ("embed_documents", "embed_query", "aembed_documents", "aembed_query")


class HashEmbeddings(Embeddings):
    """Deterministic 4-dimensional vectors; `embed_query` goes through `embed_documents`."""

    def __init__(self, model: str = "hash-v1") -> None:
        self.model = model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[byte / 255 for byte in hashlib.sha256(text.encode()).digest()[:4]] for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def hash_attributes(input_count: int) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "hash",
        "gen_ai.request.model": "hash-v1",
        "llmtap.langchain.model_class": "HashEmbeddings",
        "llmtap.langchain.embeddings.input_count": input_count,
        "gen_ai.embeddings.dimension.count": 4,
    }


def durations(telemetry: Telemetry) -> list[tuple[dict[str, Any], int]]:
    return [(dict(p.attributes), p.count) for p in telemetry.metric_points("gen_ai.client.operation.duration")]


def tokens(telemetry: Telemetry) -> list[tuple[str, str, int, int]]:
    return sorted(
        (p.attributes["gen_ai.provider.name"], p.attributes["gen_ai.token.type"], p.sum, p.count)
        for p in telemetry.metric_points("gen_ai.client.token.usage")
    )


def test_custom_embeddings_one_span_under_the_current_span_with_its_metrics(instrumented: Telemetry) -> None:
    model = HashEmbeddings()
    with instrumented.tracer_provider.get_tracer("app").start_as_current_span("request"):
        vectors = model.embed_documents(["alpha", "beta"])

    assert vectors == HashEmbeddings.embed_documents.__wrapped__(model, ["alpha", "beta"])
    assert tree(instrumented.spans()) == [("request", ["embeddings hash-v1"])]
    span = instrumented.only_span()
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.parent.span_id == named(instrumented.spans(), "request").context.span_id
    assert dict(span.attributes) == hash_attributes(2)
    # No instrumented SDK below: the LangChain span records the call's metrics (no usage is known).
    assert durations(instrumented) == [
        (
            {"gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "hash", "gen_ai.request.model": "hash-v1"},
            1,
        )
    ]
    assert tokens(instrumented) == []


def test_embed_query_calling_embed_documents_is_one_span(instrumented: Telemetry) -> None:
    vector = HashEmbeddings().embed_query("alpha")

    assert len(vector) == 4
    span = instrumented.only_span()
    assert span.name == "embeddings hash-v1"
    assert span.parent is None
    assert dict(span.attributes) == hash_attributes(1)
    assert [count for _, count in durations(instrumented)] == [1]


async def test_default_async_methods_run_in_an_executor_as_one_span(instrumented: Telemetry) -> None:
    model = HashEmbeddings()

    assert await model.aembed_documents(["alpha", "beta", "gamma"]) == model.embed_documents(["alpha", "beta", "gamma"])
    assert await model.aembed_query("alpha") == model.embed_query("alpha")

    spans = sorted(instrumented.genai_spans(), key=lambda span: span.start_time)
    assert [span.name for span in spans] == ["embeddings hash-v1"] * 4
    assert [dict(span.attributes) for span in spans] == [
        hash_attributes(3),
        hash_attributes(3),
        hash_attributes(1),
        hash_attributes(1),
    ]
    assert all(span.parent is None for span in spans)


def test_error_is_recorded_and_reaches_the_caller_unchanged(instrumented: Telemetry) -> None:
    failure = ValueError("no vectors today")

    class BrokenEmbeddings(Embeddings):
        model_name = "broken-1"

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise failure

        def embed_query(self, text: str) -> list[float]:
            raise failure

    with pytest.raises(ValueError) as caught:
        BrokenEmbeddings().embed_query("alpha")

    assert caught.value is failure
    span = instrumented.only_span()
    assert span.name == "embeddings broken-1"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "no vectors today"
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "broken",
        "gen_ai.request.model": "broken-1",
        "llmtap.langchain.model_class": "BrokenEmbeddings",
        "llmtap.langchain.embeddings.input_count": 1,
        "error.type": "ValueError",
    }


def test_subclasses_defined_after_instrument_are_traced(instrumented: Telemetry) -> None:
    class LateEmbeddings(HashEmbeddings):
        """Overrides embed_documents and calls the parent's: one span still."""

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [vector[:2] for vector in super().embed_documents(texts)]

    class PydanticEmbeddings(BaseModel, Embeddings):
        model: str = "pyd-2"

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [[1.0, 0.0, 0.0] for _ in texts]

        def embed_query(self, text: str) -> list[float]:
            return [0.0, 1.0, 0.0]

    assert LateEmbeddings().embed_documents(["a", "b"]) == [v[:2] for v in HashEmbeddings().embed_documents(["a", "b"])]
    assert PydanticEmbeddings().embed_query("a") == [0.0, 1.0, 0.0]

    spans = sorted(instrumented.genai_spans(), key=lambda span: span.start_time)
    assert [(span.name, dict(span.attributes)) for span in spans] == [
        (
            "embeddings hash-v1",
            {
                "gen_ai.operation.name": "embeddings",
                "gen_ai.provider.name": "late",
                "gen_ai.request.model": "hash-v1",
                "llmtap.langchain.model_class": "LateEmbeddings",
                "llmtap.langchain.embeddings.input_count": 2,
                "gen_ai.embeddings.dimension.count": 2,
            },
        ),
        ("embeddings hash-v1", hash_attributes(2)),
        (
            "embeddings pyd-2",
            {
                "gen_ai.operation.name": "embeddings",
                "gen_ai.provider.name": "pydantic",
                "gen_ai.request.model": "pyd-2",
                "llmtap.langchain.model_class": "PydanticEmbeddings",
                "llmtap.langchain.embeddings.input_count": 1,
                "gen_ai.embeddings.dimension.count": 3,
            },
        ),
    ]


def test_uninstrument_restores_every_method(telemetry: Telemetry) -> None:
    owners = (Embeddings, HashEmbeddings, OpenAIEmbeddings)
    before = {(owner, name): vars(owner).get(name) for owner in owners for name in (*METHODS, "__init_subclass__")}
    assert before[Embeddings, "__init_subclass__"] is None

    llmtap.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, config={})
    try:

        class DuringEmbeddings(HashEmbeddings):
            def embed_query(self, text: str) -> list[float]:
                return [0.5]

        original_query = vars(DuringEmbeddings)["embed_query"].__wrapped__
        assert vars(HashEmbeddings)["embed_documents"] is not before[HashEmbeddings, "embed_documents"]
        assert vars(OpenAIEmbeddings)["aembed_query"] is not before[OpenAIEmbeddings, "aembed_query"]
        assert "__init_subclass__" in vars(Embeddings)
    finally:
        llmtap.uninstrument()

    after = {(owner, name): vars(owner).get(name) for owner in owners for name in (*METHODS, "__init_subclass__")}
    assert after == before
    assert vars(DuringEmbeddings)["embed_query"] is original_query
    HashEmbeddings().embed_query("alpha")
    DuringEmbeddings().embed_query("alpha")
    assert telemetry.spans() == []


# --- OpenAIEmbeddings against the loopback server ------------------------------------------------


def embeddings_reply(request: Request) -> Reply:
    """The `/embeddings` response for the request's inputs, exact to the wire (`encoding_format` honoured)."""
    texts = request.body["input"]
    vectors = [[round((len(text) + index) / 10, 1), 0.5, -0.25] for index, text in enumerate(texts)]
    body = check(
        CreateEmbeddingResponse,
        {
            "object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": vector} for i, vector in enumerate(vectors)],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 7, "total_tokens": 7},
        },
    )
    if request.body.get("encoding_format") == "base64":  # what the SDK asks for unless told otherwise
        for item in body["data"]:
            item["embedding"] = base64.b64encode(
                struct.pack(f"<{len(item['embedding'])}f", *item["embedding"])
            ).decode()
    return Reply(body=body)


def openai_embeddings(api: LoopbackAPI) -> OpenAIEmbeddings:
    api.route("POST", "/v1/embeddings", embeddings_reply)
    return OpenAIEmbeddings(
        model="text-embedding-3-small",
        api_key="sk-test-000000",
        base_url=f"{api.base_url}/v1",
        check_embedding_ctx_length=False,  # no tiktoken download
        max_retries=0,
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_openai_embeddings_are_one_model_span_counted_once(
    instrumented: Telemetry, api: LoopbackAPI, mode: str
) -> None:
    model = openai_embeddings(api)

    if mode == "sync":
        vectors = model.embed_documents(["Paris", "Lyon"])
    else:
        vectors = await model.aembed_documents(["Paris", "Lyon"])

    assert vectors == [[0.5, 0.5, -0.25], [0.5, 0.5, -0.25]]
    # One API call, one model span (`llmtap.layers`): the SDK's, with the LangChain call's facts.
    span = instrumented.only_span()
    assert span.name == "embeddings text-embedding-3-small"
    assert span.parent is None
    assert dict(span.attributes) == with_cost({
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "text-embedding-3-small",
        "server.address": "127.0.0.1",
        "server.port": api.port,
        "gen_ai.request.encoding_formats": ("base64",),
        "gen_ai.embeddings.dimension.count": 3,
        "gen_ai.response.model": "text-embedding-3-small",
        "gen_ai.usage.input_tokens": 7,
        "llmtap.langchain.model_class": "OpenAIEmbeddings",
        "llmtap.langchain.embeddings.input_count": 2,
    })
    # Duplicate policy: one API call, one set of metrics, recorded by the provider span.
    assert tokens(instrumented) == [("openai", "input", 7, 1)]
    assert [
        (point["gen_ai.provider.name"], "server.port" in point, count) for point, count in durations(instrumented)
    ] == [("openai", True, 1)]


class NearestRetriever(BaseRetriever):
    """A real retriever over embeddings: the document nearest the query (dot product)."""

    embeddings: Any
    docs: list[Document] = DOCS

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        target = self.embeddings.embed_query(query)
        vectors = self.embeddings.embed_documents([doc.page_content for doc in self.docs])
        scores = [sum(a * b for a, b in zip(target, vector, strict=True)) for vector in vectors]
        return [self.docs[scores.index(max(scores))]]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_retriever_span_is_current_while_it_embeds_in_a_rag_chain(instrumented: Telemetry, mode: str) -> None:
    chain = (
        NearestRetriever(embeddings=HashEmbeddings()) | RunnableLambda(len).with_config(run_name="count")
    ).with_config(run_name="rag")

    assert (chain.invoke("capital?") if mode == "sync" else await chain.ainvoke("capital?")) == 1

    spans = instrumented.genai_spans()
    assert tree(spans) == [
        (
            "invoke_workflow rag",
            [("retrieval NearestRetriever", ["embeddings hash-v1", "embeddings hash-v1"]), "invoke_workflow count"],
        )
    ]
    query, documents = sorted((s for s in spans if s.name == "embeddings hash-v1"), key=lambda s: s.start_time)
    assert dict(query.attributes) == hash_attributes(1)
    assert dict(documents.attributes) == hash_attributes(2)
