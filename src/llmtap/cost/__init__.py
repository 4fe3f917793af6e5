"""What a model call cost, in USD, from its provider, model and token usage.

Prices come from the price data the `genai-prices` package ships (offline: nothing is fetched at run
time), or from `[tool.llmtap.prices."<provider>/<model>"]` overrides, which win. A call whose model has
no known price, or whose response reported no usage, gets no cost (and one WARNING per model): never a
made-up number.

The capture path imports only `llmtap.cost.pricer`; the price data is loaded on the first priced call.
"""

from llmtap.cost.pricer import Cost, Pricer

__all__ = ["Cost", "Pricer"]
