from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmtap import credentials


@pytest.fixture(autouse=True)
def _no_known_credentials() -> Iterator[None]:
    """Each test starts with no credential known, so one test cannot hide another's leak."""
    credentials.forget_all()
    yield
    credentials.forget_all()
