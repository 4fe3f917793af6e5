"""The demo's bundled responses: exactly what tests/demo/make_recordings.py writes, and every body the exact
public wire format (the suite's strict validator against the SDKs' own types)."""

from __future__ import annotations

import json

import httpx2

from llmtap.demo.recorded import RecordedAPI, load_recordings
from tests.demo import make_recordings
from tests.support.wire import payload_problems


def test_recordings_file_is_generated() -> None:
    assert make_recordings.TARGET.read_text(encoding="utf-8") == make_recordings.render(), (
        "run `python -m tests.demo.make_recordings`"
    )


def test_every_body_is_the_real_wire_format() -> None:
    recordings = load_recordings()
    assert len(recordings) == 26
    for recording in recordings:
        problems = payload_problems(recording.path, recording.status, "application/json", json.dumps(recording.body))
        assert problems == [], (recording.match, problems)
    errors = [(item.path, item.status, item.body["error"]["type"]) for item in recordings if item.status != 200]
    assert errors == [("/v1/messages", 529, "overloaded_error")]


def test_an_unrecorded_request_is_refused_in_the_api_error_shape() -> None:
    with RecordedAPI() as api:
        response = httpx2.post(f"{api.base_url}/v1/chat/completions", json={"messages": [{"content": "hello?"}]})
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["message"] == "llmtap demo: no recorded response for this POST /v1/chat/completions request"
    assert payload_problems("/v1/chat/completions", 404, "application/json", response.text) == []
