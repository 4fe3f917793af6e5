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
    ("environ", "message", "enabled", "capture"),
    [
        ({"LLMTAP_ENABLED": "maybe"}, "LLMTAP_ENABLED='maybe': expected a boolean", False, True),
        (
            {"LLMTAP_CAPTURE_CONTENT": "sometimes"},
            "LLMTAP_CAPTURE_CONTENT='sometimes': expected a boolean (true/false, 1/0, yes/no, on/off); "
            "content capture is off",
            True,
            False,
        ),
        (
            {"LLMTAP_MAX_CONTENT_CHARS": "-3"},
            "LLMTAP_MAX_CONTENT_CHARS='-3': expected a whole number >= 0",
            False,
            True,
        ),
        (
            {"LLMTAP_MAX_CONTENT_CHARS": "lots"},
            "LLMTAP_MAX_CONTENT_CHARS='lots': expected a whole number >= 0 (0 means no limit); llmtap is off",
            False,
            True,
        ),
        (
            {"LLMTAP_TAGS": "team=search,oops"},
            "LLMTAP_TAGS='team=search,oops': entry 'oops' is not of the form key=value",
            False,
            True,
        ),
        ({"OTEL_SDK_DISABLED": "nah"}, "OTEL_SDK_DISABLED='nah': expected a boolean", False, True),
        (
            {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "everything", "LLMTAP_CAPTURE_CONTENT": "true"},
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT='everything': expected true/false",
            True,
            False,
        ),
        # a bad value is not undone by a good one elsewhere: the safe choice stays
        ({"LLMTAP_MAX_CONTENT_CHARS": "lots", "LLMTAP_ENABLED": "true"}, "'lots'", False, True),
    ],
)
def test_malformed_environment_values_are_recorded_with_their_safe_fallback(
    environ: dict[str, str], message: str, enabled: bool, capture: bool
) -> None:
    settings = load_settings(environ=environ, config={})
    assert len(settings.errors) == 1
    assert message in settings.errors[0]
    assert settings.enabled is enabled
    assert settings.capture_content is capture
    if not enabled:
        assert settings.origin("enabled") == "fallback"


def test_malformed_values_given_in_code_raise() -> None:
    with pytest.raises(ConfigError, match=r"instrument\(config=...\): max_content_chars=True: expected a whole number"):
        load_settings(environ={}, config={"max_content_chars": True})
    with pytest.raises(ConfigError, match=r"unknown setting 'capture_contnet'; did you mean capture_content\?"):
        load_settings(environ={}, config={"capture_contnet": True})
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={}, config={"capture_content": "maybe"})
    assert isinstance(caught.value, LlmtapError)


def test_malformed_config_files_are_recorded_and_turn_llmtap_off(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("enabled = \n")
    settings = load_settings(environ={"LLMTAP_CONFIG": str(broken)}, cwd=tmp_path)
    assert settings.enabled is False
    assert settings.errors[0].startswith(f"LLMTAP_CONFIG={str(broken)!r}: not valid TOML")
    assert settings.errors[0].endswith("; llmtap is off")
    settings = load_settings(environ={"LLMTAP_CONFIG": str(tmp_path / "missing.toml")}, cwd=tmp_path)
    assert settings.errors == (
        f"LLMTAP_CONFIG={str(tmp_path / 'missing.toml')!r}: the file does not exist; expected a TOML file; "
        "llmtap is off",
    )
    (tmp_path / "pyproject.toml").write_text("[tool.llmtap]\ncapture_content = 'perhaps'\nstore = 'x.db'\n")
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.enabled is True
    assert settings.capture_content is False
    assert settings.store == "x.db"
    assert settings.origin("store") == f"{tmp_path / 'pyproject.toml'} [tool.llmtap]"
    assert settings.errors == (
        f"{tmp_path / 'pyproject.toml'} [tool.llmtap]: capture_content='perhaps': expected a boolean "
        "(true/false, 1/0, yes/no, on/off); content capture is off",
    )


def test_misspelled_llmtap_variables_are_warned_with_the_closest_known_one() -> None:
    settings = load_settings(environ={"LLMTAP_CAPTUR_CONTENT": "false", "LLMTAP_ZZZ": "1"}, config={})
    assert settings.capture_content is True
    assert settings.warnings == (
        "LLMTAP_CAPTUR_CONTENT is not an llmtap setting and is ignored; did you mean LLMTAP_CAPTURE_CONTENT?",
        "LLMTAP_ZZZ is not an llmtap setting and is ignored",
    )
    assert load_settings(environ={"LLMTAP_CONFIG": "", "LLMTAP_STORE": "off"}, config={}).warnings == ()


def test_origins_say_where_each_value_came_from(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.llmtap]\nmax_content_chars = 50\n")
    settings = load_settings(environ={"LLMTAP_STORE": "off"}, cwd=tmp_path, capture_content=False)
    assert settings.origin("max_content_chars") == f"{tmp_path / 'pyproject.toml'} [tool.llmtap]"
    assert settings.origin("store") == "environment"
    assert settings.origin("capture_content") == "code"
    assert settings.origin("enabled") == "default"
    assert load_settings(environ={}, config={"store": "a.db"}).origin("store") == "code"


def test_kill_switches() -> None:
    assert load_settings(environ={"LLMTAP_ENABLED": "false"}, config={}).enabled is False
    assert load_settings(environ={"OTEL_SDK_DISABLED": "true"}, config={}).enabled is False
    assert load_settings(environ={"OTEL_SDK_DISABLED": "false"}, config={}).enabled is True


def test_capture_content_argument_must_be_a_bool() -> None:
    with pytest.raises(ConfigError, match=r"capture_content='no': expected True, False or None"):
        load_settings(environ={}, config={}, capture_content="no")  # type: ignore[arg-type]


def test_every_llmtap_variable_the_code_reads_is_known_so_none_is_called_misspelled() -> None:
    import re

    from llmtap.config import known_variables

    root = Path(__file__).resolve().parents[2]
    named = set()
    for source in [*root.glob("src/**/*.py"), *root.glob("instrumentors/*/src/**/*.py")]:
        named.update(re.findall(r"\bLLMTAP_[A-Z][A-Z0-9_]*[A-Z0-9]\b", source.read_text(encoding="utf-8")))
    assert sorted(named - known_variables()) == []
