"""Part 3 · LangChain: a RAG chain (retriever -> prompt -> ChatOpenAI -> StrOutputParser) as one span tree.

The retriever is a real `BaseRetriever` over a few in-memory documents; ChatOpenAI talks to the fake OpenAI
API of part 1. LangChain's chat span and the OpenAI SDK's span both report the usage: the token metric
is recorded once.
"""

from __future__ import annotations

import demo_openai
from demo_output import Telemetry, app, header
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from langchain_openai import ChatOpenAI
from tests.support.loopback import LoopbackAPI

DOCS = [
    Document(id="doc-1", page_content="Paris is the capital of France.", metadata={"score": 0.92}),
    Document(id="doc-2", page_content="France is in Europe.", metadata={"score": 0.41}),
    Document(id="doc-3", page_content="Oslo is the capital of Norway.", metadata={"score": 0.12}),
]
demo_openai.ANSWERS["What is the capital of France?"] = "Paris."


class KeywordRetriever(BaseRetriever):
    """Returns the documents that share a word with the question."""

    docs: list[Document] = DOCS

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        words = set(query.lower().strip("?").split()) - {"what", "is", "the", "capital", "of"}
        return [doc for doc in self.docs if words & set(doc.page_content.lower().strip(".").split())]


def run(api: LoopbackAPI, telemetry: Telemetry) -> None:
    header(3, "LangChain: a RAG chain over a real retriever and ChatOpenAI, one trace")
    prompt = ChatPromptTemplate.from_messages([("system", "Answer from: {context}"), ("human", "{question}")])
    model = ChatOpenAI(model="gpt-4o-mini", api_key=demo_openai.KEY, base_url=f"{api.base_url}/v1", max_retries=0)
    context = KeywordRetriever() | RunnableLambda(lambda docs: " ".join(doc.page_content for doc in docs))
    chain = ({"context": context, "question": RunnablePassthrough()} | prompt | model | StrOutputParser()).with_config(
        run_name="rag"
    )

    before = telemetry.token_counts()
    app("chain.invoke:", chain.invoke("What is the capital of France?"))
    telemetry.show_new_spans()

    after = telemetry.token_counts()
    print("\n  gen_ai.client.token.usage recordings added by this chain (one model span per API call, one count):")
    for key, (count, tokens) in sorted(after.items()):
        old_count, old_tokens = before.get(key, (0, 0))
        if count != old_count:
            provider, model_name, kind = key
            print(f"    {provider} {model_name} {kind}: +{count - old_count} recording, +{tokens - old_tokens} tokens")
