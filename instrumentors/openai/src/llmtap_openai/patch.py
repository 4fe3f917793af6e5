"""Where llmtap patches the openai SDK."""

from __future__ import annotations

from llmtap import stainless
from llmtap.plugin import LlmtapInstrumentor
from llmtap_openai.routing import route

_CHAT_HELPERS = "openai.lib.streaming.chat._completions"
_RESPONSES_HELPERS = "openai.lib.streaming.responses._responses"


def patch(instrumentor: LlmtapInstrumentor) -> None:
    from openai._base_client import AsyncAPIClient, SyncAPIClient  # noqa: F401 - imported for the wrap targets
    from openai._legacy_response import LegacyAPIResponse
    from openai._response import BaseAPIResponse
    from openai._streaming import AsyncStream, Stream

    sdk = stainless.SDK(
        route=route,
        stream_types=(Stream,),
        async_stream_types=(AsyncStream,),
        raw_response_types=(LegacyAPIResponse, BaseAPIResponse),
    )
    wrap = instrumentor.wrap
    wrap("openai._base_client", "SyncAPIClient.request", stainless.request_wrapper(sdk))
    wrap("openai._base_client", "AsyncAPIClient.request", stainless.async_request_wrapper(sdk))
    wrap("openai._legacy_response", "LegacyAPIResponse.parse", stainless.parse_wrapper(sdk))
    wrap("openai._response", "APIResponse.parse", stainless.parse_wrapper(sdk))
    wrap("openai._response", "AsyncAPIResponse.parse", stainless.async_parse_wrapper(sdk))

    wrap("openai._streaming", "Stream.close", stainless.close_wrapper(stainless.itself))
    wrap("openai._streaming", "Stream.__exit__", stainless.exit_wrapper(stainless.itself))
    wrap("openai._streaming", "AsyncStream.close", stainless.async_close_wrapper(stainless.itself))
    wrap("openai._streaming", "AsyncStream.__aexit__", stainless.async_exit_wrapper(stainless.itself))

    helper, manager = stainless.helper_raw_stream, stainless.manager_raw_stream
    for module, stream, final in (
        (_CHAT_HELPERS, "ChatCompletionStream", "get_final_completion"),
        (_RESPONSES_HELPERS, "ResponseStream", "get_final_response"),
    ):
        wrap(module, f"{stream}.close", stainless.close_wrapper(helper))
        wrap(module, f"{stream}.__exit__", stainless.exit_wrapper(helper))
        wrap(module, f"{stream}.{final}", stainless.produces_wrapper(helper))
        wrap(module, f"{stream}Manager.__enter__", stainless.produces_wrapper(manager))
        wrap(module, f"{stream}Manager.__exit__", stainless.exit_wrapper(manager))
        wrap(module, f"Async{stream}.close", stainless.async_close_wrapper(helper))
        wrap(module, f"Async{stream}.__aexit__", stainless.async_exit_wrapper(helper))
        wrap(module, f"Async{stream}.{final}", stainless.async_produces_wrapper(helper))
        wrap(module, f"Async{stream}Manager.__aenter__", stainless.async_produces_wrapper(manager))
        wrap(module, f"Async{stream}Manager.__aexit__", stainless.async_exit_wrapper(manager))
