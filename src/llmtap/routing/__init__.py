"""Routing: rules in CEL that send traces to review queues, datasets, tags and named exporters.

`configure(settings)` compiles the `routes` and `exporters` tables (a `ConfigError` names the bad rule)
and makes them the rules in force; `install(tracer_provider)` adds the routing span processor to a
provider once. The capture path never imports this package: the runtime imports it only when routes are
configured.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from llmtap.config import Settings
from llmtap.routing.backfill import Backfill, backfill
from llmtap.routing.engine import Clause, Outcome, clauses, evaluate, explain, sampled
from llmtap.routing.exporters import ExporterSpec, parse_exporters
from llmtap.routing.rules import Action, Rule, check_targets, parse_rules
from llmtap.routing.runner import Runner, RunResult

__all__ = [
    "Action",
    "Backfill",
    "Clause",
    "ExporterSpec",
    "Outcome",
    "Rule",
    "RunResult",
    "Runner",
    "backfill",
    "clauses",
    "configure",
    "evaluate",
    "explain",
    "install",
    "load",
    "parse_exporters",
    "parse_rules",
    "sampled",
]

logger = logging.getLogger("llmtap")
_PROCESSOR_KEY = "_llmtap_routing_processor"
_lock = threading.Lock()
_runner: Runner | None = None


def load(settings: Settings, store: Any = None) -> Runner:
    """A runner for the rules and exporters of `settings`. Raises `ConfigError` for a bad table."""
    rules = parse_rules(settings.tables.get("routes"), settings.source)
    specs = parse_exporters(settings.tables.get("exporters"), settings.source)
    check_targets(rules, settings.tables, settings.source)
    return Runner(rules, specs, store)


def _open_store(settings: Settings) -> Any:
    from llmtap.store import StoreError, open_store, store_path

    path = store_path(settings)
    if path is None:
        return None
    try:
        return open_store(path)
    except StoreError as exc:
        logger.error("llmtap: routing cannot use the local store: %s; queue, dataset and tag actions are skipped", exc)
        return None


def configure(settings: Settings | None) -> None:
    """Make the routes of `settings` the ones in force (None: no routing)."""
    global _runner
    runner = None
    if settings is not None and settings.tables.get("routes"):
        runner = load(settings)
        runner.store = _open_store(settings)
    with _lock:
        old, _runner = _runner, runner
    _set_annotation_listener(runner is not None)
    if old is not None:
        old.shutdown()


def current() -> Runner | None:
    return _runner


def install(tracer_provider: object) -> bool:
    """Add the routing processor to an SDK tracer provider, once; it routes with the runner in force."""
    from llmtap.processors import add_once
    from llmtap.routing.processor import RoutingSpanProcessor

    return add_once(tracer_provider, _PROCESSOR_KEY, lambda: RoutingSpanProcessor(current))


def _annotation_added(annotation: Any) -> None:
    for processor in list(_processors()):
        processor.annotation_added(annotation)


def _processors() -> list[Any]:
    from llmtap.routing.processor import RoutingSpanProcessor

    return list(RoutingSpanProcessor.instances)


def _set_annotation_listener(active: bool) -> None:
    from llmtap.annotations import api

    if active:
        api.add_listener(_annotation_added)
    else:
        api.remove_listener(_annotation_added)
