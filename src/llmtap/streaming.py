"""The shared stream core: a streamed call's span ends exactly once, on every exit path.

A plugin gives a `StreamState` (how this provider's chunks accumulate into the record) and puts the
iterator returned by `iterate` / `aiterate` in place of the SDK stream's own chunk iterator, so the
stream object the application holds stays the SDK's own object. Exit paths:

- exhausted                              -> completed
- `close()` / leaving `with` early / GC  -> abandoned
- the stream (API, network) raises       -> error
- the consumer raises inside `with`      -> error (see `exit_with`)
- asyncio cancellation                   -> cancelled
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol

from llmtap.invocation import Invocation
from llmtap.record import ABANDONED, CANCELLED, COMPLETED, ERROR, LLMCall, stream_outcome
from llmtap.safety import report_internal_error

_RECORDER_ATTRIBUTE = "_llmtap_recorder"


class StreamState(Protocol):
    """Provider-specific accumulation of a stream's chunks."""

    def record_chunk(self, chunk: Any) -> None: ...

    def apply(self, call: LLMCall) -> None:
        """Write what was accumulated so far (content, usage, finish reasons, ids) onto the record."""


class StreamRecorder:
    __slots__ = ("_done", "_finalizer", "_first", "_invocation", "_state")

    def __init__(self, invocation: Invocation, state: StreamState) -> None:
        self._invocation = invocation
        self._state = state
        self._first = False
        self._done = False
        self._finalizer: weakref.finalize | None = None

    def record_chunk(self, chunk: Any) -> None:
        if not self._first:
            self._first = True
            invocation = self._invocation
            invocation.call.time_to_first_chunk = time.perf_counter() - invocation.start
        try:
            self._state.record_chunk(chunk)
        except Exception as exc:
            report_internal_error("recording a stream chunk", exc)

    def produced(self, obj: Any) -> None:
        self._invocation.produced(obj)

    def finish(self, outcome: str, error: BaseException | None = None) -> None:
        if self._done:
            return
        self._done = True
        try:
            if self._finalizer is not None:
                self._finalizer.detach()
                self._finalizer = None
            call = self._invocation.call
            self._state.apply(call)
            if outcome == COMPLETED and call.failure is not None:
                outcome = ERROR
            call.stream_outcome = outcome
            if outcome == ERROR and call.output_messages:
                _mark_interrupted(call.output_messages)
        except Exception as exc:
            report_internal_error("finishing a stream", exc)
        self._invocation.end(error)


def _mark_interrupted(messages: list[Any]) -> None:
    """The partial output of a stream that failed midway ends with the conventions' `error` finish reason
    (no finish reason arrived from the API; an abandoned stream keeps the empty one)."""
    for message in messages:
        if isinstance(message, dict) and not message.get("finish_reason"):
            message["finish_reason"] = "error"


def watch(stream: Any, recorder: StreamRecorder) -> None:
    """Tie `recorder` to the SDK stream object: found by `recorder_of`, finished if it is collected."""
    setattr(stream, _RECORDER_ATTRIBUTE, recorder)
    recorder._finalizer = weakref.finalize(stream, recorder.finish, ABANDONED)
    recorder._invocation.produced(stream)


def recorder_of(stream: Any) -> StreamRecorder | None:
    return getattr(stream, _RECORDER_ATTRIBUTE, None)


def exit_with(stream: Any, exc: BaseException | None) -> None:
    """The application left a `with` block around `stream`, perhaps because of `exc`."""
    recorder = recorder_of(stream)
    if recorder is None:
        return
    outcome = ABANDONED if exc is None else stream_outcome(exc)  # leaving `with` without an error: abandoned
    recorder.finish(outcome, exc if outcome == ERROR else None)


def iterate(
    recorder: StreamRecorder, chunks: Iterator[Any], hide: Callable[[Any], bool] | None = None
) -> Iterator[Any]:
    """Yield `chunks` unchanged (less those `hide` selects), recording each."""
    try:
        for chunk in chunks:
            recorder.record_chunk(chunk)
            if hide is not None and hide(chunk):
                continue
            yield chunk
    except GeneratorExit:
        recorder.finish(ABANDONED)
        raise
    except BaseException as exc:
        recorder.finish(ERROR, exc)
        raise
    recorder.finish(COMPLETED)


async def aiterate(
    recorder: StreamRecorder, chunks: AsyncIterator[Any], hide: Callable[[Any], bool] | None = None
) -> AsyncIterator[Any]:
    try:
        async for chunk in chunks:
            recorder.record_chunk(chunk)
            if hide is not None and hide(chunk):
                continue
            yield chunk
    except GeneratorExit:
        recorder.finish(ABANDONED)
        raise
    except asyncio.CancelledError:
        recorder.finish(CANCELLED)
        raise
    except BaseException as exc:
        recorder.finish(ERROR, exc)
        raise
    recorder.finish(COMPLETED)
