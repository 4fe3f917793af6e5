"""Issue 8 §3: well-known key patterns in captured content are redacted by default; the opt-out; the
application's own patterns, the optional pattern sets and the callable."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai

import llmtap
import llmtap.safety
from llmtap import redaction
from llmtap.config import load_settings
from llmtap.errors import ConfigError
from tests.safety.support import anthropic_client, openai_client, serve_chat, serve_messages
from tests.support.environment import clean_env
from tests.support.loopback import LoopbackAPI
from tests.support.telemetry import Telemetry, attribute_json

PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"
    "-----END RSA PRIVATE KEY-----"
)
# (name, text as the application wrote it, text as exported)
EXAMPLES = [
    ("openai", "sk-proj-Tq3vR8wZ1xY5nB7mK2pL9sD4fG6hJ0aQ", "[REDACTED]"),
    ("anthropic", "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe-AbCdEf", "[REDACTED]"),
    ("groq", "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", "[REDACTED]"),
    ("aws_access_key_id", "AKIAIOSFODNN7EXAMPLE", "[REDACTED]"),
    (
        "aws_secret_access_key",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key = [REDACTED]",
    ),
    ("github", "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "[REDACTED]"),
    ("github_pat", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "[REDACTED]"),
    ("google", "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "[REDACTED]"),
    ("slack", "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp", "[REDACTED]"),
    ("stripe", "sk_live_51H8aBcDeFgHiJkLmNoPqRsTu", "[REDACTED]"),
    ("huggingface", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "[REDACTED]"),
    ("bearer", "Authorization: Bearer abc123DEF456ghi789JKL0", "Authorization: Bearer [REDACTED]"),
    ("basic", "Authorization: Basic YWRtaW46czNjcmV0UGFzcw==", "Authorization: Basic [REDACTED]"),
    (
        "jwt",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "[REDACTED]",
    ),
    ("private_key", PRIVATE_KEY, "[REDACTED]"),
    (
        "url_password",
        "postgres://admin:s3cretPass@db.example.com:5432/app",
        "postgres://admin:[REDACTED]@db.example.com:5432/app",
    ),
]
IDS = [name for name, _, _ in EXAMPLES]


def _text_messages(span: Any, name: str) -> list[str]:
    return [part["content"] for message in attribute_json(span, name) for part in message["parts"]]


@pytest.mark.parametrize(("name", "secret", "exported"), EXAMPLES, ids=IDS)
def test_default_patterns_in_openai_prompts_and_completions(
    instrumented: Telemetry, api: LoopbackAPI, name: str, secret: str, exported: str
) -> None:
    serve_chat(api, f"Stored {secret}.")
    completion = openai_client(api).chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": f"Never say {secret}"},
            {"role": "user", "content": f"Use {secret} now."},
        ],
    )
    assert completion.choices[0].message.content == f"Stored {secret}."
    span = instrumented.only_span()
    assert _text_messages(span, gen_ai.GEN_AI_INPUT_MESSAGES) == [f"Never say {exported}", f"Use {exported} now."]
    assert _text_messages(span, gen_ai.GEN_AI_OUTPUT_MESSAGES) == [f"Stored {exported}."]
    assert "llmtap.truncated.gen_ai.input.messages" not in span.attributes


@pytest.mark.parametrize(("name", "secret", "exported"), EXAMPLES[:4], ids=IDS[:4])
def test_default_patterns_in_anthropic_prompts_and_completions(
    instrumented: Telemetry, api: LoopbackAPI, name: str, secret: str, exported: str
) -> None:
    serve_messages(api, f"Stored {secret}.")
    anthropic_client(api).messages.create(
        model="claude-sonnet-5-5",
        max_tokens=64,
        system=f"Never say {secret}",
        messages=[{"role": "user", "content": f"Use {secret} now."}],
    )
    span = instrumented.only_span()
    assert [part["content"] for part in attribute_json(span, gen_ai.GEN_AI_SYSTEM_INSTRUCTIONS)] == [
        f"Never say {exported}"
    ]
    assert _text_messages(span, gen_ai.GEN_AI_INPUT_MESSAGES) == [f"Use {exported} now."]
    assert _text_messages(span, gen_ai.GEN_AI_OUTPUT_MESSAGES) == [f"Stored {exported}."]


def test_key_patterns_in_tool_call_arguments_and_results(instrumented: Telemetry) -> None:
    groq = EXAMPLES[2][1]

    @llmtap.tool
    def configure(note: str) -> str:
        return f"configured with {groq}"

    configure(f"key {groq}")
    span = instrumented.only_span()
    assert attribute_json(span, gen_ai.GEN_AI_TOOL_CALL_ARGUMENTS) == {"note": "key [REDACTED]"}
    assert attribute_json(span, gen_ai.GEN_AI_TOOL_CALL_RESULT) == "configured with [REDACTED]"


def test_prose_is_left_alone(instrumented: Telemetry, api: LoopbackAPI) -> None:
    text = "Use sk-learn-compatible-estimators, a task-based plan, Bearer of news, and the key findings."
    serve_chat(api, text)
    openai_client(api).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
    span = instrumented.only_span()
    assert _text_messages(span, gen_ai.GEN_AI_INPUT_MESSAGES) == [text]
    assert _text_messages(span, gen_ai.GEN_AI_OUTPUT_MESSAGES) == [text]


# --- settings ------------------------------------------------------------------------------------------------


@pytest.fixture
def configured(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Telemetry]]:
    clean_env(monkeypatch)

    def start(config: dict[str, Any] | None = None, **options: Any) -> Telemetry:
        llmtap.instrument(
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
            config=config if config is not None else {},
            **options,
        )
        return telemetry

    try:
        yield start
    finally:
        llmtap.uninstrument()


def _ask(api: LoopbackAPI, telemetry: Telemetry, prompt: str) -> list[str]:
    serve_chat(api, "ok")
    openai_client(api).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}])
    return _text_messages(telemetry.genai_spans()[-1], gen_ai.GEN_AI_INPUT_MESSAGES)


@pytest.mark.parametrize("how", ["env", "config"])
def test_opt_out_keeps_patterns_but_never_the_clients_own_key(
    configured: Callable[..., Telemetry], api: LoopbackAPI, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "env":
        monkeypatch.setenv("LLMTAP_REDACT", "off")
        telemetry = configured()
    else:
        telemetry = configured({"redact": {"sets": []}})
    groq = EXAMPLES[2][1]
    own = "sk-test-safety-000000"  # the key the client below sends
    assert _ask(api, telemetry, f"{groq} and {own}") == [f"{groq} and [REDACTED]"]


def test_application_patterns_from_config(configured: Callable[..., Telemetry], api: LoopbackAPI) -> None:
    telemetry = configured({"redact": {"patterns": [r"ACME-\d{6}", r"ticket=(?P<secret>\w+)"]}})
    groq = EXAMPLES[2][1]
    assert _ask(api, telemetry, f"order ACME-123456, ticket=T42x, key {groq}") == [
        "order [REDACTED], ticket=[REDACTED], key [REDACTED]"
    ]


def test_application_patterns_from_a_config_file(
    telemetry: Telemetry, api: LoopbackAPI, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    clean_env(monkeypatch)
    path = tmp_path / "llmtap.toml"
    path.write_text('[redact]\nsets = ["credentials", "email"]\npatterns = [\'ACME-\\d{6}\']\n')
    monkeypatch.setenv("LLMTAP_CONFIG", str(path))
    llmtap.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)
    try:
        exported = _ask(api, telemetry, "ACME-000001 from jane@example.com")
    finally:
        llmtap.uninstrument()
    assert exported == ["[REDACTED] from [REDACTED]"]


def test_optional_pattern_sets(configured: Callable[..., Telemetry], api: LoopbackAPI) -> None:
    telemetry = configured({"redact": {"sets": ["credentials", "email", "phone", "card"]}})
    prompt = (
        "Mail jane.doe@example.com or call +1 415-555-0132; card 4111 1111 1111 1111; "
        "not a card 4111 1111 1111 1112; date 2024-05-01; order 12345."
    )
    assert _ask(api, telemetry, prompt) == [
        "Mail [REDACTED] or call [REDACTED]; card [REDACTED]; not a card 4111 1111 1111 1112; date 2024-05-01; "
        "order 12345."
    ]


def test_optional_sets_from_the_environment(
    configured: Callable[..., Telemetry], api: LoopbackAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMTAP_REDACT", "credentials,email")
    telemetry = configured()
    assert _ask(api, telemetry, "jane@example.com, 4111111111111111") == ["[REDACTED], 4111111111111111"]


def test_callable_in_code_runs_after_the_patterns_and_sticks(
    configured: Callable[..., Telemetry], api: LoopbackAPI
) -> None:
    seen: list[str] = []

    def hide_cities(text: str) -> str:
        seen.append(text)
        return text.replace("Paris", "[CITY]")

    telemetry = configured(redact=hide_cities)
    llmtap.instrument()  # a bare call keeps the callable
    groq = EXAMPLES[2][1]
    assert _ask(api, telemetry, f"Weather in Paris? {groq}") == ["Weather in [CITY]? [REDACTED]"]
    assert "Weather in Paris? [REDACTED]" in seen
    assert _text_messages(telemetry.genai_spans()[-1], gen_ai.GEN_AI_OUTPUT_MESSAGES) == ["ok"]


def test_a_failing_callable_fails_closed(
    configured: Callable[..., Telemetry],
    api: LoopbackAPI,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(llmtap.safety, "_already_logged", set())

    def broken(text: str) -> str:
        raise ValueError(f"cannot read {text}")

    telemetry = configured(redact=broken)
    assert _ask(api, telemetry, "hello secret plans") == ["[REDACTED]"]
    assert [record.getMessage() for record in caplog.records if record.name == "llmtap"] == [
        "llmtap: internal error in the application's redact hook (_HookFailed: ValueError); "
        "the application's call is unaffected"
    ]
    assert "secret plans" not in caplog.text


@pytest.mark.parametrize(
    ("environ", "config", "message"),
    [
        (
            {"LLMTAP_REDACT": "credentials,emails"},
            {},
            "LLMTAP_REDACT='credentials,emails': 'emails' is not a pattern set; expected off, on, or some of "
            "credentials, email, phone, card",
        ),
        (
            {},
            {"redact": {"patterns": ["ACME-("]}},
            "instrument(config=...): redact.patterns[0]='ACME-(': not a valid regular expression "
            "(missing ), unterminated subpattern at position 5)",
        ),
        (
            {},
            {"redact": {"patterns": ["x*"]}},
            "instrument(config=...): redact.patterns[0]='x*': matches the empty string; expected a pattern of the "
            "text to hide",
        ),
        ({}, {"redact": {"set": []}}, "instrument(config=...): unknown setting redact.set; expected sets or patterns"),
    ],
)
def test_bad_redaction_settings_name_the_value(environ: dict[str, str], config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ, config=config, strict=True)
    assert str(caught.value) == message


def test_a_redact_argument_that_is_not_callable(configured: Callable[..., Telemetry]) -> None:
    with pytest.raises(ConfigError, match=r"^redact='x': expected a callable taking a string"):
        configured(redact="x")


@pytest.mark.parametrize("pattern", redaction.CREDENTIAL_PATTERNS, ids=lambda pattern: pattern.name)
def test_the_cheap_check_covers_every_credential_pattern(pattern: redaction.Pattern) -> None:
    """The whole-text pre-check may only say "nothing to redact" when no pattern can match."""
    assert pattern.needles
    for needle in pattern.needles:
        for text in {needle, needle.upper(), needle.capitalize()} if pattern.fold else {needle}:
            assert redaction.Redactor().may_match(json.dumps({"content": f"x {text} y"})), text
