"""`TraceQuery` values of the wrong kind are refused with `StoreError` (an `LlmtapError`) naming the value and what
was expected, by every read that takes a query; never an `AttributeError` from deep inside the store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmtap import LlmtapError
from llmtap.store import StoreError, TraceQuery, open_store


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (TraceQuery(limit=0), "limit=0: expected a whole number >= 1"),
        (TraceQuery(offset=-1), "offset=-1: expected a whole number >= 0"),
        (TraceQuery(since="30d"), "since='30d': expected a datetime or None (llmtap.store.parse_time reads '30d')"),
        (
            TraceQuery(until=1764201600),
            "until=1764201600: expected a datetime or None (llmtap.store.parse_time reads '30d')",
        ),
        (
            TraceQuery(labels=["user_id"]),
            "labels=['user_id']: expected a mapping of names to values, e.g. {'user_id': 'u1'}",
        ),
        (
            TraceQuery(annotations="human_feedback=bad"),
            "annotations='human_feedback=bad': expected a mapping of names to values, e.g. {'user_id': 'u1'}",
        ),
    ],
)
def test_a_bad_query_value_is_named(tmp_path: Path, query: TraceQuery, message: str) -> None:
    store = open_store(tmp_path / "llmtap.db")
    try:
        for read in (store.query_traces, store.trace_ids, store.count_traces):
            with pytest.raises(StoreError) as caught:
                read(query)
            assert str(caught.value) == message
            assert isinstance(caught.value, LlmtapError)
        assert store.query_traces(TraceQuery(since=datetime(2025, 11, 1, tzinfo=UTC), labels={"user_id": "u1"})) == []
    finally:
        store.close()
