"""The README's example test ("Testing your LLM features") runs as written, and its API body is exact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openai.types.chat import ChatCompletion

from tests.support.wire import check

ROOT = Path(__file__).resolve().parents[2]

pytest_plugins = ["pytester"]


def example() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Testing your LLM features") :]
    return re.search(r"```python\n(# test_support_bot\.py.*?)```", section, re.DOTALL).group(1)


def test_readme_example_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_support_bot=example())
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=2)


def test_readme_example_body_is_the_real_wire_format() -> None:
    namespace: dict = {}
    exec(compile(example(), "test_support_bot.py", "exec"), namespace)
    check(ChatCompletion, namespace["COMPLETION"])
