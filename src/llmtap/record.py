"""The neutral record of one GenAI call: what every provider plugin fills and the emitter writes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

# How a streamed call ended (`llmtap.stream.outcome`).
COMPLETED = "completed"
ABANDONED = "abandoned"
CANCELLED = "cancelled"
ERROR = "error"


def is_cancellation(exc: BaseException | None) -> bool:
    """asyncio cancellation (a timeout, a client gone, `task.cancel()`): the caller's doing, never an error.

    One rule for every kind of call and span: no ERROR status and no `error.type` (on the span or a metric
    point), and `llmtap.cancelled=true` on the span (`llmtap.emitter.CANCELLED`).
    """
    return isinstance(exc, asyncio.CancelledError)


def stream_outcome(exc: BaseException | None) -> str:
    """How a stream that stopped with `exc` (None: exhausted) ended. Closing it early (`GeneratorExit`)
    and asyncio cancellation are the consumer's doing, not failures: no error is recorded for them."""
    if exc is None:
        return COMPLETED
    if isinstance(exc, GeneratorExit):
        return ABANDONED
    if is_cancellation(exc):
        return CANCELLED
    return ERROR


@dataclass(slots=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    # The part of the cache writes kept for 1 hour (Anthropic), priced higher than 5-minute writes.
    cache_creation_1h_input_tokens: int | None = None
    reasoning_output_tokens: int | None = None


@dataclass(slots=True)
class LLMCall:
    """One call to a model API. Content fields are filled only when content capture is on.

    Content fields use the GenAI semantic-convention message shapes: input/output messages are lists
    of `{"role", "parts": [...]}` (output messages also carry `finish_reason`), system instructions
    and tool definitions are lists of parts / tool objects.
    """

    provider: str
    operation: str
    request_model: str | None = None
    capture_content: bool = True
    streaming: bool = False
    server_address: str | None = None
    server_port: int | None = None
    # Semantic-convention request attributes (gen_ai.request.*, gen_ai.output.type, ...) by name.
    request_attributes: dict[str, Any] = field(default_factory=dict)
    system_instructions: list[Any] | None = None
    input_messages: list[Any] | None = None
    tool_definitions: list[Any] | None = None
    output_messages: list[Any] | None = None
    response_id: str | None = None
    response_model: str | None = None
    finish_reasons: list[str] | None = None
    usage: Usage = field(default_factory=Usage)
    time_to_first_chunk: float | None = None
    stream_outcome: str | None = None
    error: BaseException | None = None
    # A failure the API reported in-band (e.g. a `response.failed` event): its error type and message.
    failure: tuple[str, str] | None = None
    # Any further attributes (provider-specific, llmtap.*) by name.
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def error_type(self) -> str | None:
        """`error.type` of the call: the exception's class name, or the in-band failure's type. None for a
        cancellation (`is_cancellation`)."""
        if self.error is not None:
            if is_cancellation(self.error):
                return None
            return type(self.error).__qualname__
        return self.failure[0] if self.failure is not None else None

    @property
    def cancelled(self) -> bool:
        return is_cancellation(self.error) or self.stream_outcome == CANCELLED

    @property
    def span_name(self) -> str:
        return f"{self.operation} {self.request_model}" if self.request_model else self.operation
