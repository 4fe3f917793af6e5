"""A small LLM application exporting over OTLP/HTTP wherever `OTEL_EXPORTER_OTLP_ENDPOINT` says, for the
real-backend tests. `llmtap.instrument()` alone, configured from the environment like any application.

Three traces, against the loopback fake of the OpenAI API (exact public wire format):
1. an OpenAI chat with tool calls, inside `llmtap.tags(user_id=..., feature_flag=...)`;
2. a LangChain RAG chain `rag` (a retriever whose documents have no score, a prompt, ChatOpenAI, a parser);
3. a call to a model that does not exist (the API's 404, `openai.NotFoundError`).
"""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from langchain_openai import ChatOpenAI
from opentelemetry import trace

import llmtap
import openai
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply, Request
from tests.support.openai_requests import WEATHER_TOOL

KEY = "sk-test-backends-not-a-key"
QUESTION = "What is the capital of France?"
TOOL_QUESTION = "What's the weather in Paris and Oslo?"
ANSWER = "Paris."
NOT_FOUND = "The model `gpt-unknown` does not exist or you do not have access to it."
TOOL_USAGE = (60, 38)
RAG_USAGE = (27, 2)
# No score, and the second no id: what many retrievers return.
DOCS = [
    Document(id="doc-paris", page_content="Paris is the capital of France.", metadata={"source": "wiki"}),
    Document(page_content="France is in Europe.", metadata={"source": "atlas"}),
    Document(id="doc-oslo", page_content="Oslo is the capital of Norway.", metadata={"source": "wiki"}),
]


class KeywordRetriever(BaseRetriever):
    """Returns the documents that share a word with the question."""

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        words = set(query.lower().strip("?").split()) - {"what", "is", "the", "capital", "of"}
        return [doc for doc in DOCS if words & set(doc.page_content.lower().strip(".").split())]


def _chat(request: Request) -> Reply:
    body = request.body
    if body["model"] == "gpt-unknown":
        return Reply(404, wire.error_body(NOT_FOUND, kind="invalid_request_error", code="model_not_found"))
    if body.get("tools"):
        completion = wire.chat_completion("", finish_reason="tool_calls", usage=wire.chat_usage(*TOOL_USAGE))
        message = completion["choices"][0]["message"]
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": f"call_{city}",
                "type": "function",
                "function": {"name": "get_weather", "arguments": f'{{"location":"{city}"}}'},
            }
            for city in ("Paris", "Oslo")
        ]
        return Reply(body=completion)
    return Reply(body=wire.chat_completion(ANSWER, usage=wire.chat_usage(*RAG_USAGE)))


def run(api: LoopbackAPI) -> None:
    client = openai.OpenAI(api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0)
    with llmtap.tags(user_id="u-42", feature_flag="new-rag"):
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": TOOL_QUESTION}], tools=[WEATHER_TOOL]
        )

    prompt = ChatPromptTemplate.from_messages([("system", "Answer from: {context}"), ("human", "{question}")])
    model = ChatOpenAI(model="gpt-4o-mini", api_key=KEY, base_url=f"{api.base_url}/v1", max_retries=0)
    context = KeywordRetriever() | RunnableLambda(lambda docs: " ".join(doc.page_content for doc in docs))
    chain = {"context": context, "question": RunnablePassthrough()} | prompt | model | StrOutputParser()
    assert chain.with_config(run_name="rag").invoke(QUESTION) == ANSWER

    try:
        client.chat.completions.create(model="gpt-unknown", messages=[{"role": "user", "content": "Hi"}])
    except openai.NotFoundError:
        pass


def main() -> None:
    llmtap.instrument()
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", _chat)
        run(api)
    trace.get_tracer_provider().force_flush(30_000)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
