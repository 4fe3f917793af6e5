"""The cost attributes a span should carry, priced by genai-prices' own `calc_price` (not by llmtap)."""

from __future__ import annotations

from typing import Any

import genai_prices
import pytest

SOURCE = f"genai-prices@{genai_prices.__version__}"


def package_price(model: str, provider: str | None, service_tier: str | None = None, **usage: int) -> float:
    """The package's price; a provider it does not know (the manual API's "custom") is left to its model match."""
    context = {"service_tier": service_tier} if service_tier else None
    try:
        calculation = genai_prices.calc_price(
            genai_prices.Usage(**usage), model, provider_id=provider, price_context=context
        )
    except LookupError:
        if provider is None:
            raise
        return package_price(model, None, service_tier, **usage)
    return float(calculation.total_price)


def with_cost(expected: dict[str, Any]) -> dict[str, Any]:
    """`expected` span attributes plus the cost the package gives for their provider, model and usage."""
    usage = {
        key: expected[name]
        for key, name in (
            ("input_tokens", "gen_ai.usage.input_tokens"),
            ("output_tokens", "gen_ai.usage.output_tokens"),
            ("cache_read_tokens", "gen_ai.usage.cache_read.input_tokens"),
            ("cache_write_tokens", "gen_ai.usage.cache_creation.input_tokens"),
            ("output_reasoning_tokens", "gen_ai.usage.reasoning.output_tokens"),
        )
        if name in expected
    }
    model = expected.get("gen_ai.response.model") or expected["gen_ai.request.model"]
    price = package_price(model, expected["gen_ai.provider.name"], **usage)
    return {**expected, "llmtap.usage.cost": pytest.approx(price, rel=1e-12), "llmtap.usage.cost_source": SOURCE}
