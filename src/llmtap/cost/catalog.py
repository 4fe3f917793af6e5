"""Model prices from the data the `genai-prices` package ships, resolved once per model.

`genai_prices.calc_price` takes about a millisecond per call (it rebuilds and validates a usage object
each time), too slow for the end of every model call. So a model's price set is resolved once through the
package (provider and model matching, the price in force today) and each call is priced from that
set with the package's rules (see `ModelSchedule`). Tests check the result against `calc_price`.
Importing this module loads the price data (~0.3 s of CPU): it is imported on the first priced call,
never at `import llmtap`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import genai_prices
from genai_prices.data_snapshot import find_provider_by_id, get_snapshot
from genai_prices.decompose import is_descendant_or_self
from genai_prices.types import calc_unit_price
from genai_prices.units import _get_registry  # the package's registry of priced units

SOURCE = f"genai-prices@{genai_prices.__version__}"

# gen_ai.provider.name values whose genai-prices provider id is spelled differently.
_PROVIDER_IDS = {
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "aws.bedrock": "aws",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "mistral_ai": "mistral",
    "x_ai": "x-ai",
}


class ModelSchedule:
    """One model's prices as the package resolved them, as a plan to price usage counts quickly.

    The plan follows the package's `compute_leaf_values`: priced units from the most specific to the
    least, each unit's own count being its reported count less the counts of the priced units below it
    (`is_descendant_or_self`); so cache reads leave `input_tokens` only when the model prices them apart.
    Tiered prices apply the tier reached by the call's input tokens to all its tokens, as the package's
    `calc_unit_price` does. Arithmetic is in float (the span attribute is a float anyway).
    """

    __slots__ = ("_plan", "_requests", "model_id", "provider_id")

    def __init__(self, provider_id: str, model_id: str, model_price: Any) -> None:
        self.provider_id = provider_id
        self.model_id = model_id
        priced = []
        self._requests = 0.0
        for unit in _get_registry().units.values():
            price = getattr(model_price, unit.price_key, None)
            if price is None:
                continue
            if unit.usage_key == "requests":
                self._requests = float(calc_unit_price(price, 1, 0, unit.per))
            else:
                priced.append((unit, price))
        priced.sort(key=lambda item: (-len(item[0].dimensions), item[0].usage_key))
        plan = []
        for unit, price in priced:
            below = tuple(
                other.usage_key for other, _ in priced if other is not unit and is_descendant_or_self(unit, other)
            )
            if isinstance(price, Decimal):
                base, tiers = float(price), ()
            else:  # TieredPrices: the last tier whose start the input tokens exceed
                base, tiers = float(price.base), tuple((t.start, float(t.price)) for t in reversed(price.tiers))
            plan.append((unit.usage_key, below, unit.per, base, tiers))
        self._plan = tuple(plan)

    def cost(self, counts: Mapping[str, int]) -> float:
        """USD for usage `counts` (genai-prices usage keys). ValueError if a part exceeds its whole."""
        own: dict[str, int] = {}
        total = self._requests
        input_tokens = counts.get("input_tokens", 0)
        for key, below, per, base, tiers in self._plan:
            count = counts.get(key, 0)
            for other in below:
                count -= own[other]
            if count < 0:
                raise ValueError(f"usage {key}={counts.get(key, 0)} is less than the counts it includes: {counts}")
            own[key] = count
            if count:
                price = base
                for start, tier_price in tiers:
                    if input_tokens > start:
                        price = tier_price
                        break
                total += count * price / per
        return total


def find_schedule(
    provider: str, model: str, server_address: str | None, service_tier: str | None = None
) -> ModelSchedule | None:
    """The price schedule in force now for `model` of `provider`, or None when the package has none.

    `service_tier` (the tier the response says served the call, e.g. OpenAI's flex or priority) selects
    the package's price variant for that tier where it has one.

    An OpenAI-compatible server other than the provider's own (`server.address`, e.g. api.groq.com
    through the OpenAI SDK) is looked up by its URL first: its prices are the ones charged. A provider name
    the package does not know is looked up by the model name alone.
    """
    snapshot = get_snapshot()
    candidates: list[tuple[str | None, str | None]] = []
    if server_address:
        candidates.append((None, f"https://{server_address}"))
    candidates.append((_PROVIDER_IDS.get(provider, provider), None))
    if find_provider_by_id(snapshot.providers, _PROVIDER_IDS.get(provider, provider)) is None:
        # A provider the package does not know (the manual API's "custom"): the package's own fallback,
        # the provider whose models match the model name.
        candidates.append((None, None))
    for provider_id, api_url in candidates:
        try:
            found_provider, found_model = snapshot.find_provider_model(model, None, provider_id, api_url)
        except LookupError:
            continue
        context = {"service_tier": service_tier} if service_tier else None
        model_price = found_model.get_prices(datetime.now(tz=UTC), context)
        return ModelSchedule(found_provider.id, found_model.id, model_price)
    return None
