"""vcrpy configuration for the OpenAI cassettes: replay only, secrets never written or matched."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import vcr
from pydantic import BaseModel

OPENAI_CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "openai"
SECRET_HEADERS = ("authorization", "api-key", "x-api-key", "openai-organization", "openai-project", "cookie")
# The key the test clients send; it must never appear in a cassette or in anything exported.
TEST_API_KEY = "sk-test-3f9a1c7e2b8d4a6f0e5c"

openai_vcr = vcr.VCR(
    cassette_library_dir=str(OPENAI_CASSETTES),
    record_mode="none",
    filter_headers=list(SECRET_HEADERS),
    match_on=["method", "scheme", "host", "port", "path", "query", "body"],
    decode_compressed_response=True,
)


def cassette(name: str) -> AbstractContextManager[Any]:
    """Replay `cassettes/openai/<name>.yaml`; a request not in it fails instead of reaching the network."""
    return openai_vcr.use_cassette(f"{name}.yaml")


def openai_client(**options: Any) -> Any:
    import openai

    return openai.OpenAI(api_key=TEST_API_KEY, max_retries=0, **options)


def async_openai_client(**options: Any) -> Any:
    import openai

    return openai.AsyncOpenAI(api_key=TEST_API_KEY, max_retries=0, **options)


def call_openai(mode: str, call: Any) -> Any:
    """Run `call(client)` with a sync (`mode="sync"`) or async client; an awaitable result is awaited."""
    import asyncio
    import inspect

    if mode == "sync":
        with openai_client() as client:
            return call(client)

    async def main() -> Any:
        async with async_openai_client() as client:
            result = call(client)
            return await result if inspect.isawaitable(result) else result

    return asyncio.run(main())


def token_usage(telemetry: Any) -> dict[str, tuple[int, int]]:
    """`gen_ai.client.token.usage` by token type: (count of records, sum)."""
    return {
        point.attributes["gen_ai.token.type"]: (point.count, point.sum)
        for point in telemetry.metric_points("gen_ai.client.token.usage")
    }


def operation_count(telemetry: Any, metric: str = "gen_ai.client.operation.duration") -> int:
    return sum(point.count for point in telemetry.metric_points(metric))


def assert_metrics(telemetry: Any, input_tokens: int, output_tokens: int, streamed: bool = False) -> None:
    """One call's metrics: its two token counts, one duration and (streamed only) one time to first chunk."""
    assert token_usage(telemetry) == {"input": (1, input_tokens), "output": (1, output_tokens)}
    assert operation_count(telemetry) == 1
    assert operation_count(telemetry, "gen_ai.client.operation.time_to_first_chunk") == (1 if streamed else 0)


def usage(
    input_tokens: int, output_tokens: int, cached: int = 0, reasoning: int = 0, cache_written: int | None = None
) -> dict[str, int]:
    """The usage attributes of an OpenAI span (`cache_written`: the Responses API's `cache_write_tokens`)."""
    attributes = {
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        "gen_ai.usage.cache_read.input_tokens": cached,
        "gen_ai.usage.reasoning.output_tokens": reasoning,
    }
    if cache_written is not None:
        attributes["gen_ai.usage.cache_creation.input_tokens"] = cache_written
    return attributes


CONTENT_ATTRIBUTES = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.tool.definitions")


# A call's price depends on the genai-prices release, not on the SDK mapping: tests/cost asserts it.
COST_ATTRIBUTES = ("llmtap.usage.cost", "llmtap.usage.cost_source")


def plain_attributes(span: Any, *also: str) -> dict[str, Any]:
    """The span's attributes less the content JSON (asserted separately), `also`, the measured TTFC and the
    cost (asserted in tests/cost)."""
    skip = {*CONTENT_ATTRIBUTES, *COST_ATTRIBUTES, *also, "gen_ai.response.time_to_first_chunk"}
    return {key: value for key, value in span.attributes.items() if key not in skip}


# The structured-output model of the `*_parse` cassettes: its name and fields are part of the recorded
# request body (no docstring either: it would be sent as the schema's description).
class CityAnswer(BaseModel):
    city: str
    country: str
    population_millions: float
