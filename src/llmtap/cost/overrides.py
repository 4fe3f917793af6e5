"""Price overrides from config: `[tool.llmtap.prices."<provider>/<model>"]`, USD per million tokens.

    [tool.llmtap.prices."openai/my-fine-tune"]
    input = 0.30          # per million input tokens not read from or written to a cache
    output = 1.20         # per million output tokens (reasoning tokens included)
    cache_read = 0.15     # optional; cache reads are charged as input when absent
    cache_write = 0.375   # optional; cache writes are charged as input when absent
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from llmtap.errors import ConfigError

_PER = 1_000_000
_FIELDS = ("input", "output", "cache_read", "cache_write")


class ConfigPrices(NamedTuple):  # (a NamedTuple: defined at start-up, where a dataclass costs ~1 ms)
    """One model's prices from config, per million tokens."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None

    def cost(self, counts: Mapping[str, int]) -> float:
        """USD for `counts` (genai-prices usage keys: input_tokens counts cached tokens too)."""
        uncached = counts.get("input_tokens", 0)
        total = 0.0
        cache_read = counts.get("cache_read_tokens", 0)
        if self.cache_read is not None:
            uncached -= cache_read
            total += cache_read * self.cache_read
        cache_write = counts.get("cache_write_tokens", 0)
        if self.cache_write is not None:
            uncached -= cache_write
            total += cache_write * self.cache_write
        total += max(uncached, 0) * self.input + counts.get("output_tokens", 0) * self.output
        return total / _PER


def _price(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) or raw < 0:
        raise ConfigError(f"{where}={raw!r}: expected a number >= 0 (USD per million tokens)")
    return float(raw)


def parse_overrides(table: Any, source: str = "config") -> dict[tuple[str, str], ConfigPrices]:
    """The `prices` table as prices by (provider, model), both lower-cased."""
    if not table:
        return {}
    if not isinstance(table, Mapping):
        raise ConfigError(f'{source}: prices={table!r}: expected a table of [prices."<provider>/<model>"] tables')
    result: dict[tuple[str, str], ConfigPrices] = {}
    for key, entry in table.items():
        where = f"{source}: prices.{key!r}"
        provider, sep, model = str(key).partition("/")
        if not sep or not provider.strip() or not model.strip():
            raise ConfigError(f"{where}: expected a key of the form \"<provider>/<model>\", e.g. \"openai/gpt-4o\"")
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}={entry!r}: expected a table with {', '.join(_FIELDS)}")
        unknown = sorted(set(entry) - set(_FIELDS))
        if unknown:
            raise ConfigError(f"{where}: unknown field {unknown[0]!r}; expected one of {', '.join(_FIELDS)}")
        for required in ("input", "output"):
            if required not in entry:
                raise ConfigError(f"{where}: {required!r} is missing; input and output prices are required")
        prices = {name: _price(entry[name], f"{where}.{name}") for name in _FIELDS if name in entry}
        result[(provider.strip().lower(), model.strip().lower())] = ConfigPrices(**prices)
    return result
