"""The SQLite implementation of `llmtap.store.api.Store` (stdlib sqlite3, WAL, no ORM).

Reading a store (`llmtap traces`, `llmtap show`) imports only what reading needs: the write path's span conversion
(`llmtap.store.convert`, which brings OpenTelemetry and the label code), the checkpoint thread, hashing and the
records of the other reads (`llmtap.store.results`) are imported by the methods that use them.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from llmtap.store import schema
from llmtap.store.api import (
    AmbiguousTraceId,
    StoreError,
    StoreVersionError,
    TraceNotFound,
    TraceQuery,
    TraceSummary,
    to_ns,
)
from llmtap.store.paths import as_path_text
from llmtap.store.review_tables import ReviewTables
from llmtap.store.routing_tables import RoutingTables

if TYPE_CHECKING:
    from llmtap.store.annotation_record import StoredAnnotation
    from llmtap.store.checkpoint import Checkpointer
    from llmtap.store.convert import Facet, SpanRow, TracePart
    from llmtap.store.detail import StoredSpan, TraceDetail
    from llmtap.store.results import AnnotatedTrace, ModelCall, PurgeResult, StoreInfo

BUSY_TIMEOUT_S = 10.0
WRITER_CACHE_KIB = 65_536  # page cache of a connection writing spans (SQLite's default: 2,048 KiB)
_HEX = re.compile(r"[0-9a-f]{1,32}")
_FEW = 2000  # see SQLiteStore._many
_CHUNK = 500  # SQLite's default limit of bound parameters is 32766; keep IN lists well under it
_BATCH = 500  # trace ids per `IN (...)` read (SQLite allows 32,766 parameters)
# Rows per multi-row INSERT (the largest that SQLite's limit of parameters allows): few statement texts, each
# prepared once, and few steps per batch.
_VALUES_CHUNKS = (1024, 256, 64, 16, 4, 1)
_TRACE_COLUMNS = (
    "t.trace_id, t.root_name, t.root_span_id, t.start_ns, t.end_ns, t.span_count, t.model_calls, "
    "t.input_tokens, t.output_tokens, t.error, t.labels, t.models, t.providers"
)
_SPAN_COLUMNS = (
    "s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.start_ns, s.end_ns, s.status_code, "
    "s.status_description, s.attributes, s.events, s.links, r.attributes, r.schema_url, "
    "c.name, c.version, c.schema_url, c.attributes"
)
# A search matching many spans, checked trace by trace (newest first, until a page is full): one full-text lookup
# per trace over the rowid range of its spans (contiguous, mostly: a trace's spans are written together), not one per
# span (each lookup seeks every segment of the index: ~25 µs); a trace whose spans lie far apart in the table (a
# long trace in a busy process) is looked up span by span, so that the range never walks many other traces' rows.
_SEARCH_RANGE_MAX = 1000
_SEARCH_COUNT_ROWS = 20  # full-text rows read per trace counted, at most, when a search alone is counted (see there)
_SEARCH_EACH_TRACE = (
    "CASE WHEN (SELECT max(rowid) - min(rowid) FROM spans WHERE trace_id = t.trace_id) < ? "
    "THEN EXISTS (SELECT 1 FROM span_text x WHERE span_text MATCH ? "
    "AND x.rowid >= (SELECT min(rowid) FROM spans WHERE trace_id = t.trace_id) "
    "AND x.rowid <= (SELECT max(rowid) FROM spans WHERE trace_id = t.trace_id) "
    "AND +x.rowid IN (SELECT rowid FROM spans WHERE trace_id = t.trace_id)) "
    "ELSE EXISTS (SELECT 1 FROM spans s JOIN span_text x ON x.rowid = s.rowid "
    "WHERE s.trace_id = t.trace_id AND span_text MATCH ?) END"
)
_ANNOTATION_COLUMNS = (
    "a.annotation_id, a.name, a.value, a.trace_id, a.span_id, a.score, a.label, a.explanation, a.annotator, "
    "a.annotator_kind, a.schema_version, a.target, a.metadata, a.attributes, a.time_ns"
)


def describe_error(exc: BaseException, path: str, busy_timeout_s: float = BUSY_TIMEOUT_S) -> StoreError:
    """A `StoreError` saying in plain words what is wrong with the store file, whatever SQLite raised."""
    if isinstance(exc, StoreError):
        return exc
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, PermissionError) or "readonly" in lowered or "read-only" in lowered:
        what = "is not writable (read-only file or directory)"
    elif "unable to open" in lowered or isinstance(exc, OSError):
        what = "cannot be opened or created (does its directory exist and is it writable?)"
    elif "locked" in lowered or "busy" in lowered:
        what = f"is locked by another process (waited {busy_timeout_s:g} s)"
    elif "full" in lowered:
        what = "cannot grow: the disk is full"
    elif "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        what = "is not an llmtap store or is corrupted; move it away or point LLMTAP_STORE at another file"
    elif "disk i/o" in lowered:
        what = "cannot be written (disk I/O error; is the disk full?)"
    else:
        what = "cannot be used"
    return StoreError(f"the llmtap store {path} {what} ({type(exc).__name__}: {text})")


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _filter_values(raw: str) -> list[str]:
    """The values an annotation filter accepts: `a,b` is either value (and the text `a,b` itself, for a text value
    holding a comma), each with its numeric spelling (`4.0` also finds 4)."""
    values = [raw]
    for text in (raw, *(part.strip() for part in raw.split(",") if "," in raw)):
        spellings = [text]
        try:
            spellings.append(_value_text(float(text)))
        except ValueError:
            pass
        for spelling in spellings:
            if spelling and spelling not in values:
                values.append(spelling)
    return values


def fts_query(text: str) -> str:
    """User words as an FTS5 query: every whitespace-separated word must occur (each quoted as a phrase: `gpt-4o` is
    the tokens `gpt` `4o` one after the other)."""
    words = [word for word in text.split() if word]
    if not words:
        raise StoreError(f"search={text!r}: expected one or more words to search for")
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def _digest(*parts: Any) -> str:
    import hashlib

    from llmtap.store.convert import canonical_dumps

    return hashlib.sha1(canonical_dumps(parts).encode()).hexdigest()


def _make_private(location: str) -> None:
    """Create the store's directory and file readable by their owner only (they hold prompts)."""
    from pathlib import Path

    path = Path(location)
    missing = []
    folder = path.parent
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _whole_parts(rows: Sequence[SpanRow]) -> list[TracePart] | None:
    """The parts (`convert.summarize`) of these rows, in order, if every row has one and every part's spans are all
    among them (a batch as the exporter converted it); else None."""
    found: dict[int, list[Any]] = {}
    for row in rows:
        part = row.part
        if part is None:
            return None
        seen = found.get(id(part))
        if seen is None:
            found[id(part)] = [part, 1]
        else:
            seen[1] += 1
    if any(part.count != spans for part, spans in found.values()):
        return None
    return [part for part, _ in found.values()]


class SQLiteStore(RoutingTables, ReviewTables):
    """A store in one SQLite file. Thread-safe; several processes may write the same file at once."""

    def __init__(
        self, path: str | os.PathLike[str], *, create: bool = True, busy_timeout_s: float = BUSY_TIMEOUT_S
    ) -> None:
        self.path = as_path_text(os.fspath(path))
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.RLock()
        self._depth = 0  # open `_transaction`s (nested ones are savepoints), under `_lock`
        self._resource_ids: dict[int, int] = {}
        self._scope_ids: dict[int, int] = {}
        self._checkpointer: Checkpointer | None = None
        self._max_params: int | None = None  # SQLite's limit of bound parameters per statement
        self._values_sql: dict[tuple[str, int, int], str] = {}
        try:
            if create:
                _make_private(self.path)
            elif not os.path.exists(self.path):
                raise StoreError(f"no llmtap store at {self.path}; expected the path of an existing store file")
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise describe_error(exc, self.path, self.busy_timeout_s) from exc
        try:
            self._prepare(create)
        except BaseException as exc:
            self._conn.close()
            raise describe_error(exc, self.path, self.busy_timeout_s) from exc

    # -- set-up -----------------------------------------------------------------------------------

    def _prepare(self, create: bool) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
        fresh = conn.execute("PRAGMA page_count").fetchone()[0] == 0
        if fresh:
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # lets retention give space back
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        version = self._schema_version()
        if version > schema.SCHEMA_VERSION:
            raise StoreVersionError(
                f"the llmtap store {self.path} has schema version {version}, newer than this llmtap knows "
                f"({schema.SCHEMA_VERSION}); expected a store written by this version or older: upgrade llmtap "
                "or point LLMTAP_STORE at another file"
            )
        if version < schema.SCHEMA_VERSION:
            self.migrate()

    def _schema_version(self) -> int:
        exists = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        if not exists:
            return 0
        return self._conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]

    def migrate(self, target: int = schema.SCHEMA_VERSION) -> int:
        """Apply the forward migrations up to `target`, each in its own transaction; returns the version."""
        with self._lock:
            while True:
                with self._transaction() as conn:
                    conn.execute(
                        "CREATE TABLE IF NOT EXISTS schema_version "
                        "(version INTEGER PRIMARY KEY, applied_ns INTEGER NOT NULL)"
                    )
                    version = self._schema_version()  # read again under the write lock: another process may
                    if version >= target:  # have migrated meanwhile
                        return version
                    for statement in schema.MIGRATIONS[version].split(";\n"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute("INSERT INTO schema_version VALUES (?, ?)", (version + 1, time.time_ns()))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: everything in it is stored, or (on any error) nothing. Inside `batch()`
        (same thread), a savepoint of the batch's transaction."""
        with self._lock:
            conn = self._conn
            nested = self._depth > 0
            conn.execute("SAVEPOINT nested" if nested else "BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield conn
            except BaseException:
                if nested:
                    conn.execute("ROLLBACK TO nested")
                    conn.execute("RELEASE nested")
                else:
                    conn.execute("ROLLBACK")
                raise
            finally:
                self._depth -= 1
            conn.execute("RELEASE nested" if nested else "COMMIT")

    def batch(self) -> AbstractContextManager[Any]:
        """Many writes in one transaction (`with store.batch(): ...`): each write method's own transaction
        becomes a savepoint in it, so a failed write is undone alone; the rest commit together at the end."""
        return self._transaction()

    def close(self) -> None:
        with self._lock:
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None
            self._conn.close()

    # -- writing ----------------------------------------------------------------------------------

    def write_spans(self, spans: Sequence[Any]) -> int:
        from llmtap.store.convert import SpanRow

        return self.write_rows([SpanRow(span) for span in spans])

    def write_rows(self, rows: list[SpanRow]) -> int:
        """`write_spans` for spans already converted (`SpanRow(span)`): the conversion can run on another thread
        (`StoreSpanExporter` converts a batch while its writer thread stores the one before)."""
        if not rows:
            return 0
        try:
            if self._checkpointer is None:
                self._start_writing()
            with self._transaction() as conn:
                return self._insert_rows(conn, rows)
        except sqlite3.Error as exc:
            raise describe_error(exc, self.path, self.busy_timeout_s) from exc
        finally:  # also after a failure: a full write-ahead log may need its checkpoint to take the next batch
            self._checkpoint_soon()

    def _start_writing(self) -> None:
        """Spans arrive in a stream: their WAL checkpoints (and the disk waits) run on a thread of their own, and
        the writing connection keeps the index pages they touch cached across batches."""
        from llmtap.store.checkpoint import BACKSTOP_PAGES, Checkpointer

        with self._lock:
            if self._checkpointer is None:
                self._conn.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
                self._conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
                self._checkpointer = Checkpointer(self.path)

    def _checkpoint_soon(self) -> None:
        if self._checkpointer is None:
            self._start_writing()
        self._checkpointer.request()

    def _resource_id(self, conn: sqlite3.Connection, resource: Any) -> int:
        key = id(resource)
        cached = self._resource_ids.get(key)
        if cached is not None:
            return cached
        from llmtap.store.convert import canonical_dumps

        attributes = canonical_dumps(dict(resource.attributes)) if resource is not None else "{}"
        schema_url = (resource.schema_url if resource is not None else "") or ""
        digest = _digest(attributes, schema_url)
        conn.execute(
            "INSERT OR IGNORE INTO resources (digest, attributes, schema_url) VALUES (?, ?, ?)",
            (digest, attributes, schema_url),
        )
        row_id = conn.execute("SELECT id FROM resources WHERE digest = ?", (digest,)).fetchone()[0]
        if resource is not None:  # resources are long-lived objects shared by every span of a provider
            self._resource_ids[key] = row_id
        return row_id

    def _scope_id(self, conn: sqlite3.Connection, scope: Any) -> int:
        key = id(scope)
        cached = self._scope_ids.get(key)
        if cached is not None:
            return cached
        from llmtap.store.convert import canonical_dumps

        name = scope.name if scope is not None else ""
        version = scope.version if scope is not None else None
        schema_url = (scope.schema_url if scope is not None else "") or ""
        attributes = canonical_dumps(dict(getattr(scope, "attributes", None) or {}))
        digest = _digest(name, version, schema_url, attributes)
        conn.execute(
            "INSERT OR IGNORE INTO scopes (digest, name, version, schema_url, attributes) VALUES (?, ?, ?, ?, ?)",
            (digest, name, version, schema_url, attributes),
        )
        row_id = conn.execute("SELECT id FROM scopes WHERE digest = ?", (digest,)).fetchone()[0]
        if scope is not None:
            self._scope_ids[key] = row_id
        return row_id

    def _insert_rows(self, conn: sqlite3.Connection, rows: list[SpanRow]) -> int:
        """Insert a batch of spans (one transaction, a few multi-row statements per table) and bring the summaries
        and facets of their traces up to date; spans already stored (an export retried) are skipped."""
        from llmtap.store.convert import NULL, SPAN_COLUMNS, summarize

        # id() keys are only valid while the objects live: they do for the batch; clear between batches.
        self._resource_ids.clear()
        self._scope_ids.clear()
        first = (conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'spans'").fetchone() or (0,))[0] + 1
        values: list[Any] = []  # every row's columns, one after the other
        add = values.extend
        resource = scope = resource_row = scope_row = None
        text_rowids: dict[str, int] = {}  # trace id -> the rowid of its first span with text
        for rowid, row in enumerate(rows, first):  # a batch's spans mostly share one resource and one scope
            if row.resource is not resource or resource_row is None:
                resource, resource_row = row.resource, self._resource_id(conn, row.resource)
            if row.scope is not scope or scope_row is None:
                scope, scope_row = row.scope, self._scope_id(conn, row.scope)
            add(row.values)
            add((resource_row, scope_row, rowid, text_rowids.setdefault(row.trace_id, rowid) if row.text else NULL))
        width = len(rows[0].values) + 4
        inserted = self._insert_flat(conn, f"INSERT OR IGNORE INTO spans ({SPAN_COLUMNS}) VALUES", width, values)
        if inserted != len(rows):  # some spans were stored before (an export retried): skip those
            present = {
                rowid
                for (rowid,) in conn.execute(
                    "SELECT rowid FROM spans WHERE rowid BETWEEN ? AND ?", (first, first + len(rows) - 1)
                )
            }
            kept = [(first + index, row) for index, row in enumerate(rows) if first + index in present]
            if not kept:
                return 0
            given, text_rowids = text_rowids, {}  # a trace's text goes with its first span stored now
            moved = []
            for rowid, row in kept:
                if row.text:
                    text_rowid = text_rowids.setdefault(row.trace_id, rowid)
                    if text_rowid != given[row.trace_id]:
                        moved.append((text_rowid, rowid))
            conn.executemany("UPDATE spans SET text_rowid = ? WHERE rowid = ?", moved)
            parts = summarize([row for _, row in kept], keep=False)  # theirs also count the spans skipped
        else:
            parts = _whole_parts(rows)  # summarized on the converting thread
            if parts is None:
                parts = summarize(rows, keep=False)
        # The text of the spans of each trace is one full-text row, keyed by the rowid of the first. Purging a trace
        # tells the index the same text again: it is computed again from the stored spans (`spans.text_rowid` says
        # which row each span's text went into), one per line in rowid order.
        texts: dict[str, str] = {}
        for part in parts:  # a trace in two batches stored together: their texts, in order
            if part.text:
                before = texts.get(part.trace_id)
                texts[part.trace_id] = part.text if before is None else f"{before}\n{part.text}"
        self._insert_values(
            conn,
            "INSERT INTO span_text (rowid, text) VALUES",
            [(text_rowids[trace_id], text) for trace_id, text in texts.items()],
        )
        facets = self._update_summaries(conn, parts)
        self._insert_values(conn, "INSERT OR IGNORE INTO trace_facets VALUES", facets)
        if facets and conn.execute("SELECT 1 FROM pending_annotations LIMIT 1").fetchone():
            self._resolve_pending(conn, facets)
        return inserted

    def _insert_values(self, conn: sqlite3.Connection, head: str, rows: Sequence[tuple[Any, ...]]) -> int:
        """`head VALUES (?, ...)` for every row, many rows per statement: SQLite inserts each chunk in one step,
        with Python's GIL released (`executemany` takes it back between rows, and waits for it while the exporter's
        other thread converts the next batch). Returns the number of rows inserted."""
        if not rows:
            return 0
        return self._insert_flat(conn, head, len(rows[0]), [value for row in rows for value in row])

    def _insert_flat(self, conn: sqlite3.Connection, head: str, width: int, values: list[Any]) -> int:
        """`_insert_values` for rows of `width` columns given one after the other in one list."""
        if self._max_params is None:
            self._max_params = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        done = inserted = 0
        total = len(values) // width
        for size in _VALUES_CHUNKS:
            if size * width > self._max_params:
                continue
            while total - done >= size:
                sql = self._values_sql.get((head, width, size))
                if sql is None:
                    one = "(" + ", ".join("?" * width) + ")"
                    sql = self._values_sql[(head, width, size)] = f"{head} {', '.join([one] * size)}"
                inserted += conn.execute(sql, values[done * width : (done + size) * width]).rowcount
                done += size
        return inserted

    def _update_summaries(self, conn: sqlite3.Connection, parts: list[TracePart]) -> list[Facet]:
        """Upsert the summary of the trace of every part (what some of its spans add; read once, merged here,
        written once); returns the trace facets the parts carry (labels, models, providers), one of each per trace."""
        from llmtap.store.convert import TracePart

        existing: dict[str, tuple[Any, ...]] = {}
        trace_ids = list(dict.fromkeys(part.trace_id for part in parts))
        for start in range(0, len(trace_ids), _CHUNK):
            chunk = trace_ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for found in conn.execute(f"SELECT * FROM traces WHERE trace_id IN ({marks})", chunk):
                existing[found[0]] = found
        merged: dict[str, TracePart] = {}
        facets: list[Facet] = []
        for part in parts:
            trace_id = part.trace_id
            before = merged.get(trace_id)
            if before is None:
                old = existing.get(trace_id)
                merged[trace_id] = part if old is None else TracePart.stored(old).merged(part)
            else:  # batches queued together: the same trace in two of them
                merged[trace_id] = before.merged(part)
            facets += part.facets()
        self._insert_values(conn, "INSERT OR REPLACE INTO traces VALUES", [part.summary() for part in merged.values()])
        return facets

    def write_annotations(self, annotations: Sequence[StoredAnnotation]) -> int:
        if not annotations:
            return 0
        try:
            with self._transaction() as conn:
                stored = 0
                for annotation in annotations:
                    stored += self._insert_annotation(conn, annotation)
                return stored
        except sqlite3.Error as exc:
            raise describe_error(exc, self.path, self.busy_timeout_s) from exc

    def _insert_annotation(self, conn: sqlite3.Connection, annotation: StoredAnnotation) -> int:
        """Store one annotation, once per id: the first stored record of an id stays (a feedback token replayed
        elsewhere changes nothing); a record still waiting for its join key is replaced by its linked version."""
        # The same annotation may come twice: with its join key, then linked to its span by the process that
        # saw the span (`llmtap.annotations.pending`), in either order. Stored once, linked.
        from llmtap.store.convert import dumps

        if (
            annotation.trace_id is None
            and conn.execute("SELECT 1 FROM annotations WHERE annotation_id = ?", (annotation.id,)).fetchone()
        ):
            return 0
        if annotation.trace_id is None:
            join = annotation.target.get("join") if isinstance(annotation.target, dict) else None
            if isinstance(join, dict) and "label" in join and "value" in join:
                found = self._join_target(conn, str(join["label"]), str(join["value"]))
                if found is None:
                    if not conn.execute(
                        "SELECT 1 FROM annotations WHERE annotation_id = ?", (annotation.id,)
                    ).fetchone():
                        conn.execute(
                            "INSERT OR REPLACE INTO pending_annotations VALUES (?, ?, ?, ?, ?)",
                            (
                                annotation.id,
                                str(join["label"]),
                                str(join["value"]),
                                dumps(_annotation_record(annotation)),
                                annotation.time_ns,
                            ),
                        )
                    return 0
                annotation = _with_target(annotation, *found)
        conn.execute("DELETE FROM pending_annotations WHERE annotation_id = ?", (annotation.id,))
        return conn.execute(
            "INSERT OR IGNORE INTO annotations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                annotation.id,
                annotation.trace_id,
                annotation.span_id,
                annotation.name,
                dumps(annotation.value),
                _value_text(annotation.value),
                annotation.score,
                annotation.label,
                annotation.explanation,
                annotation.annotator,
                annotation.annotator_kind,
                annotation.schema_version,
                dumps(annotation.target),
                dumps(annotation.metadata),
                dumps(annotation.attributes),
                annotation.time_ns,
            ),
        ).rowcount

    def join_target(self, label: str, value: str) -> tuple[str, str] | None:
        try:
            with self._lock:
                return self._join_target(self._conn, label, value)
        except sqlite3.Error as exc:
            raise describe_error(exc, self.path, self.busy_timeout_s) from exc

    def _join_target(self, conn: sqlite3.Connection, label: str, value: str) -> tuple[str, str] | None:
        """The trace and the outermost span carrying label `label` = `value`, if one is stored."""
        from llmtap.store.convert import label_text

        trace = conn.execute(
            "SELECT f.trace_id FROM trace_facets f JOIN traces t ON t.trace_id = f.trace_id "
            "WHERE f.facet = ? AND f.value = ? LIMIT 1",
            (f"label:{label}", value),
        ).fetchone()
        if trace is None:
            return None
        attribute = f"llmtap.tag.{label}"
        for span_id, attributes in conn.execute(
            "SELECT span_id, attributes FROM spans WHERE trace_id = ? ORDER BY start_ns", (trace[0],)
        ):
            values = json.loads(attributes)
            if attribute in values and label_text(values[attribute]) == value:
                return trace[0], span_id
        return None

    def _resolve_pending(self, conn: sqlite3.Connection, facets: Sequence[Facet]) -> None:
        keys = {(facet[len("label:") :], value) for facet, value, _ in facets if facet.startswith("label:")}
        for label, value in keys:
            pending = conn.execute(
                "SELECT annotation_id, record FROM pending_annotations WHERE join_label = ? AND join_value = ?",
                (label, value),
            ).fetchall()
            if not pending:
                continue
            found = self._join_target(conn, label, value)
            if found is None:
                continue
            for _, record in pending:
                self._insert_annotation(conn, _with_target(_annotation_from_record(json.loads(record)), *found))

    # -- reading ----------------------------------------------------------------------------------

    def _where(self, query: TraceQuery) -> tuple[str, list[Any]]:
        conditions: list[str] = []
        params: list[Any] = []
        facets = [(f"label:{key}", str(value)) for key, value in query.labels.items()]
        if query.model:
            facets.append(("model", query.model))
        if query.provider:
            facets.append(("provider", query.provider))
        for facet, value in facets:
            if self._many("SELECT 1 FROM trace_facets WHERE facet = ? AND value = ?", (facet, value)):
                conditions.append(
                    "EXISTS (SELECT 1 FROM trace_facets f "
                    "WHERE f.facet = ? AND f.value = ? AND f.trace_id = t.trace_id)"
                )
            else:
                conditions.append("t.trace_id IN (SELECT trace_id FROM trace_facets WHERE facet = ? AND value = ?)")
            params += [facet, value]
        ranges = []  # (condition on a trace row, its parameters); each has an index for when it matches few
        if query.errors:
            ranges.append(("{t}error = 1", []))
        if query.min_latency_ms is not None:
            ranges.append(("{t}end_ns - {t}start_ns >= ?", [int(query.min_latency_ms * 1e6)]))
        if query.min_tokens is not None:
            ranges.append(("{t}input_tokens + {t}output_tokens >= ?", [int(query.min_tokens)]))
        for condition, values in ranges:
            inner = condition.format(t="")
            if self._many(f"SELECT 1 FROM traces WHERE {inner}", values):
                conditions.append(condition.format(t="t."))
            else:
                conditions.append(f"t.trace_id IN (SELECT trace_id FROM traces WHERE {inner})")
            params += values
        if query.since is not None:
            conditions.append("t.start_ns >= ?")
            params.append(to_ns(query.since))
        if query.until is not None:
            conditions.append("t.start_ns < ?")
            params.append(to_ns(query.until))
        # Every word in one full-text row: the text of the spans of a trace stored in one transaction (before schema
        # version 9: of one span).
        if query.search is not None:
            match = fts_query(query.search)
            if self._many("SELECT rowid FROM span_text WHERE span_text MATCH ?", (match,)):
                conditions.append(_SEARCH_EACH_TRACE)
                params += [_SEARCH_RANGE_MAX, match, match]
            else:
                conditions.append(
                    "t.trace_id IN (SELECT s.trace_id FROM spans s WHERE s.rowid IN "
                    "(SELECT rowid FROM span_text WHERE span_text MATCH ?))"
                )
                params.append(match)
        for name, value in query.annotations.items():
            values = _filter_values(str(value))
            marks = ",".join("?" * len(values))
            conditions.append(
                f"t.trace_id IN (SELECT a.trace_id FROM annotations a WHERE a.name = ? AND a.value_text IN ({marks}))"
            )
            params += [name, *values]
        return (" WHERE " + " AND ".join(conditions)) if conditions else "", params

    def _many(self, sql: str, params: Sequence[Any], few: int | None = None) -> bool:
        """Whether `sql` matches more than `few` (default `_FEW`) rows. A filter matching few rows is applied as a
        list of trace ids (found through its index); one matching many is checked trace by trace, newest first,
        which stops as soon as a page is full: both stay fast on a large store."""
        few = _FEW if few is None else few
        return self._read(f"SELECT count(*) FROM ({sql} LIMIT {few + 1})", params)[0][0] > few

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise describe_error(exc, self.path, self.busy_timeout_s) from exc

    def _stream(self, sql: str, params: Sequence[Any] = (), chunk: int = 2000) -> Iterator[tuple[Any, ...]]:
        """The rows of `sql` a chunk at a time (memory stays bounded on a large store; the lock is held per chunk,
        not while the caller works on the rows)."""
        try:
            with self._lock:
                cursor = self._conn.execute(sql, params)
            try:
                while True:
                    with self._lock:
                        rows = cursor.fetchmany(chunk)
                    if not rows:
                        return
                    yield from rows
            finally:
                cursor.close()
        except sqlite3.Error as exc:
            raise describe_error(exc, self.path, self.busy_timeout_s) from exc

    def query_traces(self, query: TraceQuery | None = None) -> list[TraceSummary]:
        query = _checked(query or TraceQuery())
        where, params = self._where(query)
        rows = self._read(
            f"SELECT {_TRACE_COLUMNS} FROM traces t{where} ORDER BY t.start_ns DESC, t.trace_id DESC LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )
        return [_summary(row) for row in rows]

    def trace_ids(self, query: TraceQuery | None = None) -> list[str]:
        """The ids of every trace matching `query` (its limit and offset aside), newest first: one read, where
        paging with OFFSET costs more for each page further in (back-fills and exports of many traces)."""
        where, params = self._where(_checked(query or TraceQuery()))
        return [
            row[0]
            for row in self._read(
                f"SELECT t.trace_id FROM traces t{where} ORDER BY t.start_ns DESC, t.trace_id DESC", params
            )
        ]

    def count_traces(self, query: TraceQuery | None = None, *, at_most: int | None = None) -> int:
        query = _checked(query or TraceQuery())
        match = fts_query(query.search) if query.search is not None else None
        if at_most is not None and match is not None and _only_search(query):
            # Traces holding the words, found from the full-text matches themselves (any order: only how many, up
            # to `at_most`, is asked): a common word's first matches name enough traces at once, where checking
            # the newest traces one by one seeks every segment of the index for each (~100 µs a trace). At most
            # `_SEARCH_COUNT_ROWS` matching full-text rows a trace are read so: when they name fewer traces and are
            # not all the matches (long traces written in many transactions), the traces are counted one by one below.
            rows = at_most * _SEARCH_COUNT_ROWS
            found = self._read(
                "SELECT count(*) FROM (SELECT DISTINCT s.trace_id FROM "
                "(SELECT rowid FROM span_text WHERE span_text MATCH ? LIMIT ?) x "
                "CROSS JOIN spans s ON s.rowid = x.rowid CROSS JOIN traces t ON t.trace_id = s.trace_id LIMIT ?)",
                (match, rows, at_most),
            )[0][0]
            if found == at_most or not self._many(
                "SELECT rowid FROM span_text WHERE span_text MATCH ?", (match,), rows - 1
            ):
                return found
        where, params = self._where(query)
        if at_most is None:
            return self._read(f"SELECT count(*) FROM traces t{where}", params)[0][0]
        # Newest first, as a page is read: a filter checked trace by trace stops after `at_most` matches.
        return self._read(
            f"SELECT count(*) FROM (SELECT 1 FROM traces t{where} ORDER BY t.start_ns DESC LIMIT ?)",
            [*params, at_most],
        )[0][0]

    def resolve_trace_id(self, trace_id: str) -> str:
        prefix = trace_id.strip().lower()
        if not _HEX.fullmatch(prefix):
            raise TraceNotFound(f"trace id {trace_id!r}: expected a trace id (32 hex digits) or a prefix of one")
        found = self._read(
            "SELECT trace_id FROM traces WHERE trace_id >= ? AND trace_id < ? ORDER BY trace_id LIMIT 6",
            (prefix, prefix + "g"),
        )
        if not found:
            raise TraceNotFound(f"trace id {trace_id!r}: no trace in {self.path} has this id")
        if len(found) > 1:
            shown = ", ".join(row[0] for row in found[:5])
            raise AmbiguousTraceId(
                f"trace id {trace_id!r}: {'more than 5' if len(found) > 5 else len(found)} traces start with it "
                f"({shown}); expected a longer prefix"
            )
        return found[0][0]

    def get_trace(self, trace_id: str) -> TraceDetail:
        found = self.get_traces([self.resolve_trace_id(trace_id)])
        if not found:  # purged between the two reads
            raise TraceNotFound(f"trace id {trace_id!r}: no trace in {self.path} has this id")
        return found[0]

    def get_traces(self, trace_ids: Sequence[str]) -> list[TraceDetail]:
        """The traces with these full ids, in that order, read a few hundred at a time (ids not stored are
        left out): what `get_trace` gives one by one, for back-fills and exports over many traces."""
        from llmtap.store.detail import TraceDetail

        found: list[TraceDetail] = []
        for start in range(0, len(trace_ids), _BATCH):
            chunk = list(dict.fromkeys(trace_ids[start : start + _BATCH]))
            marks = ", ".join("?" * len(chunk))
            summaries = {
                row[0]: _summary(row)
                for row in self._read(f"SELECT {_TRACE_COLUMNS} FROM traces t WHERE t.trace_id IN ({marks})", chunk)
            }
            spans: dict[str, list[StoredSpan]] = {}
            for row in self._read(
                f"SELECT {_SPAN_COLUMNS} FROM spans s JOIN resources r ON r.id = s.resource_id "
                f"JOIN scopes c ON c.id = s.scope_id WHERE s.trace_id IN ({marks}) ORDER BY s.start_ns, s.rowid",
                chunk,
            ):
                spans.setdefault(row[0], []).append(_span(row))
            annotations: dict[str, list[StoredAnnotation]] = {}
            for row in self._read(
                f"SELECT {_ANNOTATION_COLUMNS} FROM annotations a WHERE a.trace_id IN ({marks}) ORDER BY a.time_ns",
                chunk,
            ):
                annotations.setdefault(row[3], []).append(_annotation(row))
            found.extend(
                TraceDetail(
                    summary=summaries[trace_id],
                    spans=spans.get(trace_id, []),
                    annotations=annotations.get(trace_id, []),
                )
                for trace_id in chunk
                if trace_id in summaries
            )
        return found

    def model_calls(self, query: TraceQuery | None = None) -> Iterator[ModelCall]:
        from llmtap.store.convert import labels_of, loads
        from llmtap.store.results import ModelCall

        where, params = self._where(_checked(query or TraceQuery()))
        sql = (
            "SELECT s.trace_id, s.span_id, s.name, s.model, s.provider, s.start_ns, s.end_ns, s.input_tokens, "
            "s.output_tokens, s.error, s.attributes FROM spans s WHERE s.is_model_call = 1"
        )
        if where:
            sql += f" AND s.trace_id IN (SELECT t.trace_id FROM traces t{where})"
        for row in self._stream(sql + " ORDER BY s.start_ns", params):
            attributes = loads(row[10])
            cost = attributes.get("llmtap.usage.cost")
            yield ModelCall(
                trace_id=row[0],
                span_id=row[1],
                name=row[2],
                model=row[3],
                provider=row[4],
                start_time_ns=row[5],
                duration_ms=(row[6] - row[5]) / 1e6,
                input_tokens=row[7],
                output_tokens=row[8],
                error=bool(row[9]),
                labels=labels_of(attributes),
                cost=float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None,
            )

    def annotated_traces(self, name: str, query: TraceQuery | None = None) -> Iterator[AnnotatedTrace]:
        from llmtap.store.results import AnnotatedTrace

        where, params = self._where(_checked(query or TraceQuery()))
        where = where.replace(" WHERE ", " AND ", 1) if where else ""
        rows = self._read(
            f"SELECT {_ANNOTATION_COLUMNS}, t.labels FROM annotations a JOIN traces t ON t.trace_id = a.trace_id "
            f"WHERE a.name = ?{where} ORDER BY a.time_ns",
            [name, *params],
        )
        for row in rows:
            yield AnnotatedTrace(annotation=_annotation(row[:-1]), labels=json.loads(row[-1]))

    def annotations(self, trace_id: str | None = None) -> list[StoredAnnotation]:
        if trace_id is None:
            rows = self._read(f"SELECT {_ANNOTATION_COLUMNS} FROM annotations a ORDER BY a.time_ns")
        else:
            rows = self._read(
                f"SELECT {_ANNOTATION_COLUMNS} FROM annotations a WHERE a.trace_id = ? ORDER BY a.time_ns",
                (trace_id,),
            )
        return [_annotation(row) for row in rows]

    def pending_annotations(self) -> list[StoredAnnotation]:
        rows = self._read("SELECT record FROM pending_annotations ORDER BY time_ns")
        return [_annotation_from_record(json.loads(record)) for (record,) in rows]

    def pending_for(self, keys: Iterable[tuple[str, str]]) -> list[StoredAnnotation]:
        wanted = list(dict.fromkeys(keys))[:400]  # one statement (SQLite's default limit: 32,766 parameters)
        if not wanted:
            return []
        rows = self._read(
            "SELECT record FROM pending_annotations WHERE (join_label, join_value) IN "
            f"(VALUES {','.join(['(?, ?)'] * len(wanted))}) ORDER BY time_ns",
            [part for key in wanted for part in key],
        )
        return [_annotation_from_record(json.loads(record)) for (record,) in rows]

    # -- maintenance ------------------------------------------------------------------------------

    def purge(self, before: datetime, *, progress: Callable[[int, int], None] | None = None) -> PurgeResult:
        return self.purge_before_ns(to_ns(before), progress=progress)

    def purge_before_ns(
        self,
        before_ns: int,
        *,
        max_traces: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> PurgeResult:
        """Delete the traces that started before `before_ns` (the oldest `max_traces` of them if given);
        `progress(traces deleted, traces to delete)` after each chunk of traces (one transaction each)."""
        from llmtap.store.results import PurgeResult

        traces = spans = annotations = 0
        try:
            total = 0
            if progress is not None:
                total = self._read("SELECT count(*) FROM traces WHERE start_ns < ?", (before_ns,))[0][0]
                total = total if max_traces is None else min(total, max_traces)
                progress(0, total)
            while max_traces is None or traces < max_traces:
                take = _CHUNK if max_traces is None else min(_CHUNK, max_traces - traces)
                with self._transaction() as conn:
                    chunk = [
                        trace_id
                        for (trace_id,) in conn.execute(
                            "SELECT trace_id FROM traces WHERE start_ns < ? ORDER BY start_ns LIMIT ?",
                            (before_ns, take),
                        )
                    ]
                    if not chunk:
                        if max_traces is None:
                            conn.execute("DELETE FROM pending_annotations WHERE time_ns < ?", (before_ns,))
                        break
                    counts = self._delete_traces(conn, chunk)
                traces += len(chunk)
                spans += counts[0]
                annotations += counts[1]
                if progress is not None:
                    progress(traces, max(total, traces))
            with self._lock:
                self._conn.executescript("PRAGMA incremental_vacuum;")  # runs it to the end (execute: one page)
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            raise describe_error(exc, self.path, self.busy_timeout_s) from exc
        return PurgeResult(traces=traces, spans=spans, annotations=annotations)

    def _delete_traces(self, conn: sqlite3.Connection, trace_ids: list[str]) -> tuple[int, int]:
        from llmtap.store.convert import facets_of, labels_of, models_and_provider, searchable_text

        marks = ",".join("?" * len(trace_ids))
        texts: dict[int, list[str]] = {}  # full-text rowid -> the text of its spans (see `_insert_rows`)
        # The facets have no index by trace: they are deleted by their full key, as the spans and summaries give it.
        facets: set[Facet] = set()
        for rowid, trace_id, raw, text_rowid in conn.execute(
            f"SELECT rowid, trace_id, attributes, text_rowid FROM spans WHERE trace_id IN ({marks}) ORDER BY rowid",
            trace_ids,
        ):
            attributes = json.loads(raw)
            text = searchable_text(attributes)
            if text:
                texts.setdefault(rowid if text_rowid is None else text_rowid, []).append(text)
            models, provider = models_and_provider(attributes)
            facets.update(facets_of(trace_id, labels_of(attributes).items(), models, (provider,) if provider else ()))
        tagged = []  # labels added to a trace by `tag_trace`, maybe more than once: every value of the key goes
        for trace_id, labels, models, providers in conn.execute(
            f"SELECT trace_id, labels, models, providers FROM traces WHERE trace_id IN ({marks})", trace_ids
        ):
            for facet in facets_of(trace_id, json.loads(labels).items(), json.loads(models), json.loads(providers)):
                if facet not in facets:
                    tagged.append((facet[0], trace_id))
        conn.executemany("DELETE FROM trace_facets WHERE facet = ? AND trace_id = ?", tagged)
        # A contentless full-text index forgets a row when told its exact text again.
        conn.executemany(
            "INSERT INTO span_text (span_text, rowid, text) VALUES ('delete', ?, ?)",
            [(rowid, "\n".join(lines)) for rowid, lines in texts.items()],
        )
        spans = conn.execute(f"DELETE FROM spans WHERE trace_id IN ({marks})", trace_ids).rowcount
        annotations = conn.execute(f"DELETE FROM annotations WHERE trace_id IN ({marks})", trace_ids).rowcount
        conn.executemany("DELETE FROM trace_facets WHERE facet = ? AND value = ? AND trace_id = ?", list(facets))
        conn.execute(
            f"DELETE FROM queue_reviews WHERE item_id IN (SELECT id FROM queue_items WHERE trace_id IN ({marks}))",
            trace_ids,
        )
        conn.execute(f"DELETE FROM queue_items WHERE trace_id IN ({marks})", trace_ids)
        conn.execute(f"DELETE FROM route_deliveries WHERE trace_id IN ({marks})", trace_ids)
        conn.execute(f"DELETE FROM dataset_items WHERE trace_id IN ({marks})", trace_ids)
        conn.execute(f"DELETE FROM traces WHERE trace_id IN ({marks})", trace_ids)
        return spans, annotations

    def used_bytes(self) -> int:
        """Bytes the data takes in the file (free pages not counted)."""
        rows = self._read("SELECT * FROM pragma_page_count, pragma_freelist_count, pragma_page_size")
        pages, free, size = rows[0]
        return (pages - free) * size

    def info(self) -> StoreInfo:
        from llmtap.store.results import StoreInfo

        counts = self._read(
            "SELECT (SELECT count(*) FROM traces), (SELECT count(*) FROM spans), (SELECT count(*) FROM annotations), "
            "(SELECT count(*) FROM pending_annotations)"
        )[0]
        size = 0
        for suffix in ("", "-wal"):
            try:
                size += os.path.getsize(self.path + suffix)
            except OSError:
                pass
        return StoreInfo(
            path=self.path,
            size_bytes=size,
            trace_count=counts[0],
            span_count=counts[1],
            annotation_count=counts[2],
            pending_annotation_count=counts[3],
            schema_version=self._read("SELECT coalesce(max(version), 0) FROM schema_version")[0][0],
            writable=self._writable(),
        )

    def _writable(self) -> bool:
        """Can this process write the store now? (Takes the write lock for an instant.)"""
        try:
            with self._lock:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.execute("ROLLBACK")
            return os.access(self.path, os.W_OK)
        except sqlite3.Error:
            return False


def _checked(query: TraceQuery) -> TraceQuery:
    if not isinstance(query.limit, int) or query.limit < 1:
        raise StoreError(f"limit={query.limit!r}: expected a whole number >= 1")
    if not isinstance(query.offset, int) or query.offset < 0:
        raise StoreError(f"offset={query.offset!r}: expected a whole number >= 0")
    for name in ("labels", "annotations"):
        value = getattr(query, name)
        if not isinstance(value, dict) and not hasattr(value, "items"):
            raise StoreError(f"{name}={value!r}: expected a mapping of names to values, e.g. {{'user_id': 'u1'}}")
    for name in ("since", "until"):
        value = getattr(query, name)
        if value is not None and not isinstance(value, datetime):
            raise StoreError(f"{name}={value!r}: expected a datetime or None (llmtap.store.parse_time reads '30d')")
    return query


def _only_search(query: TraceQuery) -> bool:
    """Whether full-text search is the query's one filter."""
    return not (
        query.labels
        or query.model
        or query.provider
        or query.errors
        or query.min_latency_ms is not None
        or query.min_tokens is not None
        or query.since is not None
        or query.until is not None
        or query.annotations
    )


def _loads(text: str) -> Any:
    """`json.loads`, short-cut for the empty list and map most event, link and metadata columns hold."""
    if text == "[]":
        return []
    if text == "{}":
        return {}
    return json.loads(text)


def _summary(row: tuple[Any, ...]) -> TraceSummary:
    return TraceSummary(
        trace_id=row[0],
        root_name=row[1],
        root_span_id=row[2],
        start_time_ns=row[3],
        end_time_ns=row[4],
        span_count=row[5],
        model_calls=row[6],
        input_tokens=row[7],
        output_tokens=row[8],
        error=bool(row[9]),
        labels=_loads(row[10]),
        models=_loads(row[11]),
        providers=_loads(row[12]),
    )


def _span(row: tuple[Any, ...]) -> StoredSpan:
    from llmtap.store.detail import StoredSpan

    return StoredSpan(
        trace_id=row[0],
        span_id=row[1],
        parent_span_id=row[2],
        name=row[3],
        kind=row[4],
        start_time_ns=row[5],
        end_time_ns=row[6],
        status_code=row[7],
        status_description=row[8],
        attributes=_loads(row[9]),
        events=_loads(row[10]),
        links=_loads(row[11]),
        resource={"attributes": _loads(row[12]), "schema_url": row[13]},
        scope={"name": row[14], "version": row[15], "schema_url": row[16], "attributes": _loads(row[17])},
    )


def _annotation(row: tuple[Any, ...]) -> StoredAnnotation:
    from llmtap.store.annotation_record import StoredAnnotation

    return StoredAnnotation(
        annotation_id=row[0],
        name=row[1],
        value=_loads(row[2]),
        trace_id=row[3],
        span_id=row[4],
        score=row[5],
        label=row[6],
        explanation=row[7],
        annotator=row[8],
        annotator_kind=row[9],
        schema_version=row[10],
        target=_loads(row[11]),
        metadata=_loads(row[12]),
        attributes=_loads(row[13]),
        time_ns=row[14],
    )


def _annotation_record(annotation: StoredAnnotation) -> dict[str, Any]:
    from llmtap.store.annotation_record import StoredAnnotation

    return {name: getattr(annotation, name) for name in StoredAnnotation.__dataclass_fields__}


def _annotation_from_record(record: dict[str, Any]) -> StoredAnnotation:
    from llmtap.store.annotation_record import StoredAnnotation

    return StoredAnnotation(**record)


def _with_target(annotation: StoredAnnotation, trace_id: str, span_id: str) -> StoredAnnotation:
    """The annotation landed on a span: its target says which (as `Target.resolved` does)."""
    target = {**annotation.target, "trace_id": trace_id, "span_id": span_id}
    return replace(annotation, trace_id=trace_id, span_id=span_id, target=target)
