"""Prices one model call: a config override, else the genai-prices schedule of its model (cached)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from llmtap.cost.overrides import ConfigPrices, parse_overrides
from llmtap.safety import report_internal_error

if TYPE_CHECKING:
    from llmtap.config import Settings
    from llmtap.cost.catalog import ModelSchedule
    from llmtap.record import LLMCall

logger = logging.getLogger("llmtap")

CONFIG_SOURCE = "config"
# A model's schedule is looked up again after this long: genai-prices dates some price changes.
_SCHEDULE_TTL_S = 3600.0
# Where plugins record the service tier that served a call (it selects a price variant).
_SERVICE_TIERS = ("openai.response.service_tier",)
# Operations billed on input tokens alone.
_warned: set[tuple[str, str, str]] = set()  # one warning per model and reason per process
_warned_lock = threading.Lock()
_INPUT_ONLY = frozenset({"embeddings"})


# Operations that are not billed by the token (counting tokens is free): no cost, and no warning about usage.
_UNBILLED = frozenset({"count_tokens"})


class Cost(NamedTuple):  # (a NamedTuple: defined at start-up, where a dataclass costs ~1 ms)
    usd: float
    source: str  # "genai-prices@<version>" or "config"


def usage_counts(call: LLMCall) -> dict[str, int] | None:
    """The call's usage in genai-prices' usage keys, or None when its response reported too little to price."""
    usage = call.usage
    if type(usage.input_tokens) is not int:
        return None
    counts = {"input_tokens": usage.input_tokens}
    if type(usage.output_tokens) is int:
        counts["output_tokens"] = usage.output_tokens
    elif call.operation not in _INPUT_ONLY:
        return None
    for key, value in (
        ("cache_read_tokens", usage.cache_read_input_tokens),
        ("cache_write_tokens", usage.cache_creation_input_tokens),
        ("cache_write_1h_tokens", usage.cache_creation_1h_input_tokens),
        ("output_reasoning_tokens", usage.reasoning_output_tokens),
    ):
        if type(value) is int and value > 0:
            counts[key] = value
    return counts


class Pricer:
    """Prices calls for the emitter. Thread-safe; each model's schedule is resolved once."""

    def __init__(self, overrides: Mapping[tuple[str, str], ConfigPrices] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._schedules: dict[tuple[str, str, str | None, str | None], tuple[float, ModelSchedule | None]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Pricer:
        """Raises `ConfigError` for a malformed `prices` table."""
        return cls.from_settings_table(settings.tables.get("prices"), settings.source)

    @classmethod
    def from_settings_table(cls, table: Any, source: str = "config") -> Pricer:
        """A pricer with the overrides of a `prices` table (as in the config file)."""
        return cls(parse_overrides(table, source))

    def price(self, call: LLMCall) -> Cost | None:
        """The cost of `call`, or None (unknown model, no usage, failed call). Never raises."""
        model = call.response_model or call.request_model
        if not model or call.error is not None or call.failure is not None or call.operation in _UNBILLED:
            return None
        try:
            counts = usage_counts(call)
            if counts is None:
                self._warn_once(call.provider, model, "the response reported no token usage")
                return None
            override = self._override(call)
            if override is not None:
                return Cost(override.cost(counts), CONFIG_SOURCE)
            tier = next((call.attributes[name] for name in _SERVICE_TIERS if name in call.attributes), None)
            schedule = self._schedule(call.provider, model, call.server_address, tier)
            if schedule is None:
                self._warn_once(call.provider, model, "no price is known for this model (add one under [prices])")
                return None
            from llmtap.cost.catalog import SOURCE

            return Cost(schedule.cost(counts), SOURCE)
        except Exception as exc:
            report_internal_error("pricing a model call", exc)
            return None

    def _override(self, call: LLMCall) -> ConfigPrices | None:
        if not self._overrides:
            return None
        provider = call.provider.lower()
        for model in (call.response_model, call.request_model):
            if model:
                found = self._overrides.get((provider, model.lower()))
                if found is not None:
                    return found
        return None

    def _schedule(
        self, provider: str, model: str, server_address: str | None, tier: str | None
    ) -> ModelSchedule | None:
        key = (provider, model, server_address, tier)
        cached = self._schedules.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[0] < _SCHEDULE_TTL_S:
            return cached[1]
        from llmtap.cost.catalog import find_schedule

        schedule = find_schedule(provider, model, server_address, tier)
        self._schedules[key] = (now, schedule)
        return schedule

    def _warn_once(self, provider: str, model: str, why: str) -> None:
        key = (provider, model, why)
        if key in _warned:
            return
        with _warned_lock:
            if key in _warned:
                return
            _warned.add(key)
        logger.warning("llmtap: no cost recorded for %s/%s: %s", provider, model, why)


def describe(cost: Cost | None) -> dict[str, Any]:
    """The span attributes of a cost."""
    if cost is None:
        return {}
    return {"llmtap.usage.cost": cost.usd, "llmtap.usage.cost_source": cost.source}
