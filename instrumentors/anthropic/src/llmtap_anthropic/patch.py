"""Where llmtap patches the anthropic SDK."""

from __future__ import annotations

from llmtap import stainless
from llmtap.plugin import LlmtapInstrumentor
from llmtap_anthropic.native import start_api_call_span_wrapper
from llmtap_anthropic.routing import route

_HELPERS = (
    # module, sync stream, async stream (the beta async classes put `Async` after `Beta`)
    ("anthropic.lib.streaming._messages", "MessageStream", "AsyncMessageStream"),
    ("anthropic.lib.streaming._beta_messages", "BetaMessageStream", "BetaAsyncMessageStream"),
)


def patch(instrumentor: LlmtapInstrumentor) -> None:
    from anthropic._base_client import AsyncAPIClient, SyncAPIClient  # noqa: F401 - imported for the wrap targets
    from anthropic._response import BaseAPIResponse
    from anthropic._streaming import AsyncStream, Stream

    sdk = stainless.SDK(
        route=route,
        stream_types=(Stream,),
        async_stream_types=(AsyncStream,),
        raw_response_types=(BaseAPIResponse,),
    )
    wrap = instrumentor.wrap
    wrap("anthropic._base_client", "SyncAPIClient.request", stainless.request_wrapper(sdk))
    wrap("anthropic._base_client", "AsyncAPIClient.request", stainless.async_request_wrapper(sdk))
    # The SDK's own call span: replaced by llmtap's for the calls llmtap records (see `native`).
    wrap("anthropic._base_client", "start_api_call_span", start_api_call_span_wrapper)
    wrap("anthropic._response", "APIResponse.parse", stainless.parse_wrapper(sdk))
    wrap("anthropic._response", "AsyncAPIResponse.parse", stainless.async_parse_wrapper(sdk))

    wrap("anthropic._streaming", "Stream.close", stainless.close_wrapper(stainless.itself))
    wrap("anthropic._streaming", "Stream.__exit__", stainless.exit_wrapper(stainless.itself))
    wrap("anthropic._streaming", "AsyncStream.close", stainless.async_close_wrapper(stainless.itself))
    wrap("anthropic._streaming", "AsyncStream.__aexit__", stainless.async_exit_wrapper(stainless.itself))

    helper, manager = stainless.helper_raw_stream, stainless.manager_raw_stream
    for module, stream, async_stream in _HELPERS:
        wrap(module, f"{stream}.close", stainless.close_wrapper(helper))
        wrap(module, f"{stream}.__exit__", stainless.exit_wrapper(helper))
        wrap(module, f"{stream}.get_final_message", stainless.produces_wrapper(helper))
        wrap(module, f"{stream}Manager.__enter__", stainless.produces_wrapper(manager))
        wrap(module, f"{stream}Manager.__exit__", stainless.exit_wrapper(manager))
        wrap(module, f"{async_stream}.close", stainless.async_close_wrapper(helper))
        wrap(module, f"{async_stream}.__aexit__", stainless.async_exit_wrapper(helper))
        wrap(module, f"{async_stream}.get_final_message", stainless.async_produces_wrapper(helper))
        wrap(module, f"{async_stream}Manager.__aenter__", stainless.async_produces_wrapper(manager))
        wrap(module, f"{async_stream}Manager.__aexit__", stainless.async_exit_wrapper(manager))
