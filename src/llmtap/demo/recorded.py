"""The model APIs, played back: a loopback server answering the demo's requests with bundled recorded
responses (`recordings.json`), in the exact wire format of the public OpenAI and Anthropic APIs.

A recording answers a request when every one of its `match` strings occurs in the request's text (all the
strings of its JSON body); the first such recording wins, so the more specific ones come first. The file is
written by `tests/demo/make_recordings.py`, and the test suite checks every body against the SDKs' own types.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from llmtap.demo.loopback import LoopbackAPI, Reply, Request

RECORDINGS = "recordings.json"


@dataclass(frozen=True)
class Recording:
    method: str
    path: str
    match: list[str]
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # the model's latency when it was recorded, in seconds


def load_recordings() -> list[Recording]:
    raw = json.loads(files("llmtap.demo").joinpath(RECORDINGS).read_text(encoding="utf-8"))
    return [Recording(**item) for item in raw["recordings"]]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def request_text(body: Any) -> str:
    """Every string of a JSON request body, one per line: what `match` strings are looked for in."""
    return "\n".join(_strings(body))


class RecordedAPI(LoopbackAPI):
    """A loopback server answering with the recordings; a request none matches gets a 404 saying so."""

    def __init__(self, recordings: list[Recording] | None = None) -> None:
        super().__init__()
        self.recordings = load_recordings() if recordings is None else recordings
        for method, path in {(item.method, item.path) for item in self.recordings}:
            self.route(method, path, self._answer)

    def recording_for(self, request: Request) -> Recording | None:
        text = request_text(request.body)
        return next(
            (
                item
                for item in self.recordings
                if (item.method, item.path) == (request.method, request.path)
                and all(piece in text for piece in item.match)
            ),
            None,
        )

    def _answer(self, request: Request) -> Reply:
        recording = self.recording_for(request)
        if recording is None:
            message = f"llmtap demo: no recorded response for this {request.method} {request.path} request"
            return Reply(
                404, {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
            )
        return Reply(recording.status, recording.body, headers=dict(recording.headers), delay=recording.delay)
