"""What `llmtap doctor` says about the local store: where it is, how big, how many traces, writable or not."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmtap.config import Settings
from llmtap.errors import LlmtapError
from llmtap.store.api import open_store, store_path


def store_report(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The store's state as a JSON-ready dict (the `store` section of `llmtap doctor --json`).

    Keys: `path` (absolute, or None when `LLMTAP_STORE=off`), `status` (`off`, `not created yet`, `ok` or
    `unusable`), `size_bytes`, `trace_count`, `span_count`, `schema_version`, `writable`, `problem` (a
    sentence, or None). Opening the store never creates or migrates it here.
    """
    from llmtap.store.wiring import store_explicit, traces_configured

    path = store_path(settings)
    if path is None:
        return {"path": None, "status": "off", "problem": None}
    path = path.absolute()
    env = os.environ if environ is None else environ
    report: dict[str, Any] = {
        "path": str(path),
        "records": (
            "spans (LLMTAP_STORE is set)"
            if store_explicit(settings)
            else "spans when no exporter is configured"
            + (" (one is: OTEL_* sends spans elsewhere)" if traces_configured(env) else " (none is)")
        ),
        "retention": _retention(settings),
    }
    if not path.exists():
        writable = _creatable(path)
        report.update(status="not created yet", writable=writable, problem=None)
        if not writable:
            report["problem"] = f"the store {path} cannot be created: {_nearest_existing(path)} is not writable"
        return report
    try:
        store = open_store(path, create=False)
    except LlmtapError as exc:
        report.update(status="unusable", writable=False, problem=str(exc))
        return report
    try:
        info = store.info()
    finally:
        store.close()
    report.update(
        status="ok",
        size_bytes=info.size_bytes,
        trace_count=info.trace_count,
        span_count=info.span_count,
        annotation_count=info.annotation_count,
        pending_annotation_count=info.pending_annotation_count,
        schema_version=info.schema_version,
        writable=info.writable,
        problem=None if info.writable else f"the store {path} is not writable by this user",
    )
    return report


def _retention(settings: Settings) -> str:
    parts = []
    if settings.store_max_age_days:
        parts.append(f"traces older than {settings.store_max_age_days} days")
    if settings.store_max_size_mb:
        parts.append(f"the oldest traces beyond {settings.store_max_size_mb} MB")
    return "deletes " + " and ".join(parts) if parts else "keeps everything (`llmtap purge` deletes old traces)"


def _nearest_existing(path: Path) -> Path:
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    return folder


def _creatable(path: Path) -> bool:
    return os.access(_nearest_existing(path), os.W_OK | os.X_OK)
