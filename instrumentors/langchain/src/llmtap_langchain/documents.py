"""Retrieved LangChain `Document`s as `gen_ai.retrieval.documents` entries."""

from __future__ import annotations

from typing import Any

_SCORE_KEYS = ("score", "relevance_score", "similarity_score", "_score")


def document(doc: Any, capture_content: bool) -> dict[str, Any]:
    """The conventions' document shape: `id` (a string) and `score` only when the retriever gave them."""
    metadata = dict(getattr(doc, "metadata", None) or {})
    entry: dict[str, Any] = {}
    doc_id = getattr(doc, "id", None) or metadata.get("id")
    if doc_id is not None:
        entry["id"] = str(doc_id)
    for key in _SCORE_KEYS:
        if isinstance(metadata.get(key), int | float):
            entry["score"] = metadata[key]
            break
    if metadata:
        entry["metadata"] = metadata
    if capture_content:
        entry["content"] = getattr(doc, "page_content", "")
    return entry


def documents(docs: Any, capture_content: bool) -> list[dict[str, Any]]:
    return [document(doc, capture_content) for doc in docs or ()]
