"""Real langchain-core building blocks for the LangChain tests, and a span-tree renderer."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from opentelemetry.sdk.trace import ReadableSpan

DOCS = [
    Document(id="doc-1", page_content="Paris is the capital of France.", metadata={"score": 0.92, "source": "wiki"}),
    Document(id="doc-2", page_content="France is in Europe.", metadata={"score": 0.41, "source": "atlas"}),
]


class KeywordRetriever(BaseRetriever):
    """A real retriever: returns the documents sharing a word with the query."""

    docs: list[Document] = DOCS

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        words = set(query.lower().strip("?").split())
        return [doc for doc in self.docs if words & set(doc.page_content.lower().strip(".").split())]


def tree(spans: list[ReadableSpan]) -> list[Any]:
    """The spans as nested `(name, [children...])` in start order; roots first."""
    by_parent: dict[int | None, list[ReadableSpan]] = {}
    ids = {span.context.span_id for span in spans}
    for span in spans:
        parent = span.parent.span_id if span.parent is not None and span.parent.span_id in ids else None
        by_parent.setdefault(parent, []).append(span)

    def build(parent: int | None) -> list[Any]:
        children = sorted(by_parent.get(parent, []), key=lambda span: span.start_time or 0)
        return [
            (span.name, build(span.context.span_id)) if by_parent.get(span.context.span_id) else span.name
            for span in children
        ]

    return build(None)


def named(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, [span.name for span in spans]
    return found[0]
