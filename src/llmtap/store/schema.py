"""The store's SQLite schema as a list of forward migrations.

`MIGRATIONS[n]` takes a store from schema version `n` to `n + 1`. A store is never migrated backwards: a
file written by a newer llmtap (a version above `SCHEMA_VERSION`) is refused with a clear message.
Append new migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

_V1 = """
CREATE TABLE resources (
    id INTEGER PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    attributes TEXT NOT NULL,
    schema_url TEXT NOT NULL
);
CREATE TABLE scopes (
    id INTEGER PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    version TEXT,
    schema_url TEXT NOT NULL,
    attributes TEXT NOT NULL
);
-- One row per span. `rowid` is never reused (AUTOINCREMENT): it keys the full-text index.
CREATE TABLE spans (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT,
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    status_code TEXT NOT NULL,
    status_description TEXT,
    attributes TEXT NOT NULL,
    events TEXT NOT NULL,
    links TEXT NOT NULL,
    resource_id INTEGER NOT NULL REFERENCES resources(id),
    scope_id INTEGER NOT NULL REFERENCES scopes(id),
    -- Derived from the attributes, for filters and stats without parsing JSON:
    model TEXT,
    provider TEXT,
    is_model_call INTEGER NOT NULL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    error INTEGER NOT NULL,
    UNIQUE (trace_id, span_id)
);
CREATE INDEX spans_model_calls ON spans(start_ns) WHERE is_model_call = 1;
-- Per-trace summary, kept up to date as spans arrive.
CREATE TABLE traces (
    trace_id TEXT PRIMARY KEY,
    root_span_id TEXT,
    root_name TEXT,
    root_is_final INTEGER NOT NULL,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    span_count INTEGER NOT NULL,
    model_calls INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    error INTEGER NOT NULL,
    labels TEXT NOT NULL,
    models TEXT NOT NULL,
    providers TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX traces_by_start ON traces(start_ns);
-- What traces are filtered by: `label:<key>` = value, `model` = request or response model, `provider`.
CREATE TABLE trace_facets (
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    PRIMARY KEY (facet, value, trace_id)
) WITHOUT ROWID;
CREATE INDEX trace_facets_by_trace ON trace_facets(trace_id);
-- Full text of captured prompts and completions; rowid = spans.rowid. Contentless: the text lives in
-- spans.attributes only once.
CREATE VIRTUAL TABLE span_text USING fts5(text, content='');
"""

_V2 = """
CREATE TABLE annotations (
    annotation_id TEXT PRIMARY KEY,
    trace_id TEXT,
    span_id TEXT,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    value_text TEXT NOT NULL,
    score REAL,
    label TEXT,
    explanation TEXT,
    annotator TEXT,
    annotator_kind TEXT,
    schema_version INTEGER,
    target TEXT NOT NULL,
    metadata TEXT NOT NULL,
    attributes TEXT NOT NULL,
    time_ns INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX annotations_by_trace ON annotations(trace_id);
CREATE INDEX annotations_by_value ON annotations(name, value_text);
-- Annotations whose target (a key of the application's own, e.g. a message id label) matches no stored
-- span yet; resolved as matching spans arrive.
CREATE TABLE pending_annotations (
    annotation_id TEXT PRIMARY KEY,
    join_label TEXT NOT NULL,
    join_value TEXT NOT NULL,
    record TEXT NOT NULL,
    time_ns INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX pending_by_key ON pending_annotations(join_label, join_value);
"""

_V3 = """
-- For review queues and datasets (the routing issue builds on these).
CREATE TABLE queue_items (
    id INTEGER PRIMARY KEY,
    queue TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    span_id TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    rule TEXT,
    claimed_by TEXT,
    claimed_until_ns INTEGER,
    added_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL,
    UNIQUE (queue, trace_id)
);
CREATE INDEX queue_items_by_state ON queue_items(queue, state, added_ns);
CREATE TABLE datasets (
    name TEXT PRIMARY KEY,
    description TEXT,
    created_ns INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE dataset_items (
    id INTEGER PRIMARY KEY,
    dataset TEXT NOT NULL REFERENCES datasets(name),
    trace_id TEXT NOT NULL,
    span_id TEXT,
    data TEXT NOT NULL,
    added_ns INTEGER NOT NULL,
    UNIQUE (dataset, trace_id, span_id)
);
"""

_V4 = """
-- Which routing targets (exporter:<name>, tag:<key>) have received a trace: each at most once.
CREATE TABLE route_deliveries (
    target TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    time_ns INTEGER NOT NULL,
    PRIMARY KEY (target, trace_id)
) WITHOUT ROWID;
"""

_V5 = """
-- Filters that match few traces of a large store find them through these (see SQLiteStore._many).
CREATE INDEX traces_with_errors ON traces(start_ns) WHERE error = 1;
CREATE INDEX traces_by_duration ON traces(end_ns - start_ns);
CREATE INDEX traces_by_tokens ON traces(input_tokens + output_tokens)
"""

_REVIEWS = """
-- Each reviewer's claim on a review-queue item and its outcome (claimed | completed | skipped).
CREATE TABLE queue_reviews (
    item_id INTEGER NOT NULL,
    reviewer TEXT NOT NULL,
    state TEXT NOT NULL,
    claimed_until_ns INTEGER,
    updated_ns INTEGER NOT NULL,
    PRIMARY KEY (item_id, reviewer)
) WITHOUT ROWID;
"""

_FACETS_BY_KEY_ONLY = """
-- Facets are found by (facet, value) only: purge deletes them by their full key (computed from the spans and the
-- summary it deletes), so the index by trace, which cost a tenth of every span's ingest, goes.
DROP INDEX IF EXISTS trace_facets_by_trace
"""

_LOOKUPS = """
-- Expired claims are found without scanning a queue's reviews; purge finds a trace's queue items and deliveries.
CREATE INDEX queue_reviews_claimed ON queue_reviews(claimed_until_ns) WHERE state = 'claimed';
CREATE INDEX queue_items_by_trace ON queue_items(trace_id);
CREATE INDEX route_deliveries_by_trace ON route_deliveries(trace_id)
"""

_TEXT_PER_TRACE = """
-- The full text of the spans of a trace written in one transaction is one row of `span_text` (a third less work
-- per span than a row each), keyed by the rowid of the first of those spans that has text: `text_rowid` says which
-- row holds a span's text (NULL for a span written before version 9, whose text is the row keyed by its own rowid).
ALTER TABLE spans ADD COLUMN text_rowid INTEGER
"""

# v1: spans, trace summaries, facets, full text; v2: annotations; v3: queue items and datasets;
# v4: routing deliveries; v5: indexes for the error, latency and token filters; v6: queue reviews;
# v7: no index of the facets by trace; v8: indexes for expired claims and for purge; v9: one full-text row per trace
# and transaction.
MIGRATIONS: tuple[str, ...] = (
    _V1,
    _V2,
    _V3,
    _V4,
    _V5,
    _REVIEWS,
    _FACETS_BY_KEY_ONLY,
    _LOOKUPS,
    _TEXT_PER_TRACE,
)
SCHEMA_VERSION = len(MIGRATIONS)
