"""The llmtap pytest plugin (entry point `pytest11`): the `llmtap_capture` fixture and the `llmtap` marker.

    def test_answer(llmtap_capture):
        answer_question("What is llmtap?")
        call = llmtap_capture.model_call(model="gpt-4o-mini")
        assert call.output_tokens == 9

    @pytest.mark.llmtap(capture_content=False, config={"tags": {"env": "test"}})
    def test_private(llmtap_capture): ...

The marker's keyword arguments are those of `llmtap.testing.Capture` (`capture_content`, `config`,
`providers`). This module is loaded by every pytest run where llmtap is installed, so it imports nothing
of llmtap until the fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from llmtap.testing import Capture

_OPTIONS = ("capture_content", "config", "providers")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "llmtap(capture_content=None, config=None, providers=None): settings for the llmtap_capture fixture",
    )


@pytest.fixture
def llmtap_capture(request: pytest.FixtureRequest) -> Iterator[Capture]:
    """llmtap instrumented for this test into memory: spans, metrics and log records, with helpers to find
    model calls and assert on them (see `llmtap.testing.Capture`). Uninstrumented after the test."""
    from llmtap.testing import Capture

    marker = request.node.get_closest_marker("llmtap")
    options = dict(marker.kwargs) if marker is not None else {}
    unknown = sorted(set(options) - set(_OPTIONS))
    if marker is not None and (marker.args or unknown):
        raise pytest.UsageError(
            f"@pytest.mark.llmtap{marker.args or ''}{unknown or ''}: expected keyword arguments among {_OPTIONS}"
        )
    with Capture(**options) as capture:
        yield capture
