"""The environment variables that change what llmtap captures: tests clear them so the machine's cannot leak in."""

from __future__ import annotations

import os

import pytest

CAPTURE_ENV = (
    "LLMTAP_CAPTURE_CONTENT",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    "LLMTAP_CONFIG",
    "LLMTAP_ENABLED",
    "OTEL_SDK_DISABLED",
    "LLMTAP_MAX_CONTENT_CHARS",
)
# Every variable that changes what llmtap captures, limits, redacts or instruments.
SETTING_ENV = (
    *CAPTURE_ENV,
    "LLMTAP_OPENAI_STREAM_USAGE",
    "LLMTAP_MAX_ATTRIBUTE_CHARS",
    "LLMTAP_REDACT",
    "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
    "ANTHROPIC_OPEN_TELEMETRY",
)


def clear_env(monkeypatch: pytest.MonkeyPatch, names: tuple[str, ...] = CAPTURE_ENV, *more: str) -> None:
    """Unset `names` and `more` for the test."""
    for name in (*names, *more):
        monkeypatch.delenv(name, raising=False)


def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every setting variable (`SETTING_ENV`)."""
    clear_env(monkeypatch, SETTING_ENV)


def child_env() -> dict[str, str]:
    """This process's environment without any `LLMTAP_*` or `OTEL_*` setting: for a child process whose llmtap and
    OpenTelemetry settings the test gives itself, so that the machine's cannot leak in."""
    return {key: value for key, value in os.environ.items() if not key.startswith(("LLMTAP_", "OTEL_"))}
