"""The local store: spans, trace summaries, labels, annotations, queue items and datasets in SQLite.

Callers use only what this package exports (the interface lives in `llmtap.store.api`); the SQLite
backend behind it can be joined by a server database later without touching them. The capture hot path
never imports this package: spans reach it through `StoreSpanExporter` behind the SDK's batch processor.
The names below are imported on first use, so that setting the store up at start-up (`llmtap.store.wiring`)
does not import the interface.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmtap.store.api import (
        AmbiguousTraceId,
        AnnotatedTrace,
        ModelCall,
        PurgeResult,
        Store,
        StoredAnnotation,
        StoredSpan,
        StoreError,
        StoreInfo,
        StoreVersionError,
        TraceDetail,
        TraceNotFound,
        TraceQuery,
        TraceSummary,
        iso_time,
        open_store,
        parse_time,
        store_path,
        to_ns,
    )

__all__ = [
    "AmbiguousTraceId",
    "AnnotatedTrace",
    "ModelCall",
    "PurgeResult",
    "Store",
    "StoreError",
    "StoreInfo",
    "StoreVersionError",
    "StoredAnnotation",
    "StoredSpan",
    "TraceDetail",
    "TraceNotFound",
    "TraceQuery",
    "TraceSummary",
    "iso_time",
    "open_store",
    "parse_time",
    "store_path",
    "to_ns",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from llmtap.store import api

    value = getattr(api, name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value
