from __future__ import annotations

from pathlib import Path

import pytest

from llmtap.config import DEFAULT_MAX_CONTENT_CHARS, load_settings
from llmtap.errors import ConfigError, LlmtapError


def test_defaults_without_any_source(tmp_path: Path) -> None:
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.enabled is True
    assert settings.capture_content is True
    assert settings.max_content_chars == DEFAULT_MAX_CONTENT_CHARS
    assert dict(settings.tags) == {}
    assert settings.store == ".llmtap/llmtap.db"
    assert settings.openai_stream_usage is False
    assert settings.disabled_instrumentations == frozenset()
    assert settings.source == "defaults"


def test_environment_variables_are_read() -> None:
    settings = load_settings(
        environ={
            "LLMTAP_ENABLED": "yes",
            "LLMTAP_CAPTURE_CONTENT": "0",
            "LLMTAP_MAX_CONTENT_CHARS": "100",
            "LLMTAP_TAGS": "team=search, env = prod",
            "LLMTAP_STORE": "off",
            "LLMTAP_OPENAI_STREAM_USAGE": "TRUE",
            "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "openai, anthropic",
        },
        config={},
    )
    assert settings.enabled is True
    assert settings.capture_content is False
    assert settings.max_content_chars == 100
    assert dict(settings.tags) == {"team": "search", "env": "prod"}
    assert settings.store == "off"
    assert settings.openai_stream_usage is True
    assert settings.disabled_instrumentations == frozenset({"openai", "anthropic"})


def test_pyproject_table_is_found_from_a_subfolder_and_environment_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.llmtap]\ncapture_content = false\nmax_content_chars = 50\n'
        'tags = { team = "search", tier = 2 }\n\n[tool.llmtap.labels.user_id]\ntype = "string"\n'
    )
    sub = tmp_path / "src" / "app"
    sub.mkdir(parents=True)
    settings = load_settings(environ={"LLMTAP_MAX_CONTENT_CHARS": "70"}, cwd=sub)
    assert settings.capture_content is False
    assert settings.max_content_chars == 70
    assert dict(settings.tags) == {"team": "search", "tier": "2"}
    assert settings.tables["labels"] == {"user_id": {"type": "string"}}
    assert settings.source == f"{tmp_path / 'pyproject.toml'} [tool.llmtap]"


def test_llmtap_config_file_holds_the_tables_at_top_level(tmp_path: Path) -> None:
    config = tmp_path / "llmtap.toml"
    config.write_text('store = "/tmp/x.db"\n[labels.session_id]\ntype = "string"\n')
    (tmp_path / "pyproject.toml").write_text("[tool.llmtap]\nstore = 'ignored.db'\n")
    settings = load_settings(environ={"LLMTAP_CONFIG": str(config)}, cwd=tmp_path)
    assert settings.store == "/tmp/x.db"
    assert settings.tables["labels"] == {"session_id": {"type": "string"}}


def test_argument_overrides_environment_for_content_capture() -> None:
    assert (
        load_settings(environ={"LLMTAP_CAPTURE_CONTENT": "true"}, config={}, capture_content=False).capture_content
        is False
    )
    assert (
        load_settings(environ={"LLMTAP_CAPTURE_CONTENT": "false"}, config={}, capture_content=True).capture_content
        is True
    )


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "false"}, False),
        ({"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "NO_CONTENT"}, False),
        ({"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_ONLY"}, True),
        ({"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_AND_EVENT"}, True),
        ({"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "EVENT_ONLY"}, False),  # llmtap emits no events
        ({"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true", "LLMTAP_CAPTURE_CONTENT": "false"}, False),
        ({"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "false", "LLMTAP_CAPTURE_CONTENT": "true"}, False),
    ],
)
def test_either_content_variable_turns_capture_off(environ: dict[str, str], expected: bool) -> None:
    assert load_settings(environ=environ, config={}).capture_content is expected


def test_content_file_setting_applies_when_no_variable_is_set() -> None:
    assert load_settings(environ={}, config={"capture_content": False}).capture_content is False


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LLMTAP_ENABLED": "maybe"}, "LLMTAP_ENABLED='maybe': expected a boolean"),
        ({"LLMTAP_CAPTURE_CONTENT": "sometimes"}, "LLMTAP_CAPTURE_CONTENT='sometimes': expected a boolean"),
        ({"LLMTAP_MAX_CONTENT_CHARS": "-3"}, "LLMTAP_MAX_CONTENT_CHARS='-3': expected a whole number >= 0"),
        ({"LLMTAP_MAX_CONTENT_CHARS": "lots"}, "LLMTAP_MAX_CONTENT_CHARS='lots': expected a whole number >= 0"),
        (
            {"LLMTAP_TAGS": "team=search,oops"},
            "LLMTAP_TAGS='team=search,oops': entry 'oops' is not of the form key=value",
        ),
        ({"OTEL_SDK_DISABLED": "nah"}, "OTEL_SDK_DISABLED='nah': expected a boolean"),
        (
            {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "everything"},
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT='everything': expected true/false",
        ),
    ],
)
def test_malformed_environment_values_name_variable_value_and_expectation(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ, config={})
    assert message in str(caught.value)
    assert isinstance(caught.value, LlmtapError)


def test_malformed_file_values_name_the_file_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"instrument\(config=...\): max_content_chars=True: expected a whole number"):
        load_settings(environ={}, config={"max_content_chars": True})
    with pytest.raises(ConfigError, match=r"unknown setting 'capture'; expected one of"):
        load_settings(environ={}, config={"capture": True})
    broken = tmp_path / "broken.toml"
    broken.write_text("enabled = \n")
    with pytest.raises(ConfigError, match=r"LLMTAP_CONFIG='.*broken.toml': not valid TOML"):
        load_settings(environ={"LLMTAP_CONFIG": str(broken)}, cwd=tmp_path)
    with pytest.raises(ConfigError, match=r"LLMTAP_CONFIG='.*missing.toml': the file does not exist"):
        load_settings(environ={"LLMTAP_CONFIG": str(tmp_path / "missing.toml")}, cwd=tmp_path)


def test_kill_switches() -> None:
    assert load_settings(environ={"LLMTAP_ENABLED": "false"}, config={}).enabled is False
    assert load_settings(environ={"OTEL_SDK_DISABLED": "true"}, config={}).enabled is False
    assert load_settings(environ={"OTEL_SDK_DISABLED": "false"}, config={}).enabled is True


def test_capture_content_argument_must_be_a_bool() -> None:
    with pytest.raises(ConfigError, match=r"capture_content='no': expected True, False or None"):
        load_settings(environ={}, config={}, capture_content="no")  # type: ignore[arg-type]
