"""Where llmtap patches the anthropic SDK: the shared Stainless hooks, anthropic's stream helpers, and
the SDK's own call span (see `native`)."""

from __future__ import annotations

from llmtap import stainless
from llmtap.plugin import LlmtapInstrumentor
from llmtap_anthropic.native import start_api_call_span_wrapper
from llmtap_anthropic.routing import route

# The beta async classes put `Async` after `Beta`.
HELPERS = (
    stainless.Helper("anthropic.lib.streaming._messages", "MessageStream", "AsyncMessageStream", "get_final_message"),
    stainless.Helper(
        "anthropic.lib.streaming._beta_messages", "BetaMessageStream", "BetaAsyncMessageStream", "get_final_message"
    ),
)


def patch(instrumentor: LlmtapInstrumentor) -> None:
    stainless.patch_sdk(instrumentor, "anthropic", route, HELPERS)
    # The SDK's own call span: replaced by llmtap's for the calls llmtap records (see `native`).
    instrumentor.wrap("anthropic._base_client", "start_api_call_span", start_api_call_span_wrapper)
