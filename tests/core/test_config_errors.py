"""Configuration mistakes are loud but never stop the application (one rule for `instrument()` and the launcher).

A bad value from the environment or a config file: logged once at ERROR (variable, value, expectation), llmtap
falls back to the safe choice (content capture off for a bad capture setting, llmtap off for anything else).
A bad argument given in code raises `ConfigError` at the call.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest

import llmtap
import openai
from llmtap import providers
from tests.support import openai_wire as wire
from tests.support.environment import CAPTURE_ENV
from tests.support.loopback import LoopbackAPI, Reply
from tests.support.telemetry import Telemetry

_CLEARED = (
    *CAPTURE_ENV,
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[pytest.MonkeyPatch]:
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no pyproject.toml above
    try:
        yield monkeypatch
    finally:
        llmtap.uninstrument()


def _chat(api: LoopbackAPI) -> None:
    client = openai.OpenAI(api_key="sk-test", base_url=f"{api.base_url}/v1", max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "secret prompt"}])


def _llmtap_records(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(record.levelno, record.getMessage()) for record in caplog.records if record.name == "llmtap"]


def test_a_bad_capture_setting_turns_content_off_and_is_logged_once(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, api: LoopbackAPI, telemetry: Telemetry
) -> None:
    clean_env.setenv("LLMTAP_CAPTURE_CONTENT", "maybe-1")
    api.route("POST", "/v1/chat/completions", Reply(body=wire.chat_completion("hello")))
    with caplog.at_level(logging.INFO, logger="llmtap"):
        llmtap.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)
        llmtap.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)
    assert _llmtap_records(caplog) == [
        (
            logging.ERROR,
            "llmtap: LLMTAP_CAPTURE_CONTENT='maybe-1': expected a boolean (true/false, 1/0, yes/no, on/off); "
            "content capture is off",
        )
    ]
    _chat(api)
    span = telemetry.only_span()
    assert span.name == "chat gpt-4o-mini"
    assert "gen_ai.input.messages" not in span.attributes
    assert "secret prompt" not in telemetry.everything_exported()


def test_any_other_bad_setting_turns_llmtap_off(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, api: LoopbackAPI, telemetry: Telemetry
) -> None:
    clean_env.setenv("LLMTAP_MAX_CONTENT_CHARS", "lots-2")
    api.route("POST", "/v1/chat/completions", Reply(body=wire.chat_completion("hello")))
    with caplog.at_level(logging.INFO, logger="llmtap"):
        llmtap.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)
    assert _llmtap_records(caplog) == [
        (
            logging.ERROR,
            "llmtap: LLMTAP_MAX_CONTENT_CHARS='lots-2': expected a whole number >= 0 (0 means no limit); llmtap is off",
        )
    ]
    _chat(api)
    assert telemetry.spans() == []


def test_a_bad_exporter_setting_turns_llmtap_off_without_installing_anything(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clean_env.setenv("OTEL_TRACES_EXPORTER", "zipkin-ish")
    with caplog.at_level(logging.INFO, logger="llmtap"):
        llmtap.instrument()
    assert _llmtap_records(caplog) == [
        (
            logging.ERROR,
            "llmtap: OTEL_TRACES_EXPORTER='zipkin-ish': unknown exporter 'zipkin-ish'; expected otlp, console or "
            "none; llmtap is off",
        )
    ]
    assert not providers.global_tracer_provider_is_set()


def test_a_bad_label_schema_in_a_file_turns_llmtap_off(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.llmtap.labels.tier]\ntype = "colour"\n')
    with caplog.at_level(logging.INFO, logger="llmtap"):
        llmtap.instrument(tracer_provider=Telemetry().tracer_provider)
    [(level, message)] = _llmtap_records(caplog)
    assert level == logging.ERROR
    assert "colour" in message
    assert message.endswith("; llmtap is off")
    with pytest.raises(llmtap.ConfigError, match="colour"):  # the same schema given in code raises
        llmtap.instrument(config={"labels": {"tier": {"type": "colour"}}})


def test_a_bad_review_queue_in_a_file_turns_llmtap_off(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.llmtap.queues.review]\nannotations = []\n")
    with caplog.at_level(logging.INFO, logger="llmtap"):
        llmtap.instrument(tracer_provider=Telemetry().tracer_provider)
    assert _llmtap_records(caplog) == [
        (
            logging.ERROR,
            f"llmtap: {tmp_path / 'pyproject.toml'} [tool.llmtap]: [tool.llmtap.queues.review]: annotations=[]: "
            "expected a non-empty list of annotation schema names; llmtap is off",
        )
    ]


def test_pyproject_tables_pasted_into_the_llmtap_config_file_are_explained(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path
) -> None:
    (tmp_path / "llmtap.toml").write_text('[tool.llmtap.labels.user_id]\ntype = "string"\n')
    clean_env.setenv("LLMTAP_CONFIG", "llmtap.toml")
    with caplog.at_level(logging.INFO, logger="llmtap"):
        llmtap.instrument(tracer_provider=Telemetry().tracer_provider)
    [(level, message)] = _llmtap_records(caplog)
    assert level == logging.ERROR
    assert message.startswith("llmtap: llmtap.toml: unknown setting 'tool'; expected one of annotations, ")
    assert message.endswith(
        ", tags (this file holds the [tool.llmtap] tables at its top level: [labels.x], not [tool.llmtap.labels.x]); "
        "llmtap is off"
    )


def test_bad_arguments_in_code_raise_at_the_call(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(llmtap.ConfigError) as caught:
        llmtap.instrument(providers=["opneai"])
    assert str(caught.value).startswith(
        "providers=['opneai']: 'opneai' is not an installed llmtap plugin; did you mean openai?; installed: "
    )
    with pytest.raises(llmtap.ConfigError) as caught:
        llmtap.instrument(tracer_provider="console")  # type: ignore[arg-type]
    assert str(caught.value) == (
        "tracer_provider='console': expected an opentelemetry TracerProvider or None "
        "(exporters are chosen with OTEL_TRACES_EXPORTER, e.g. OTEL_TRACES_EXPORTER=console)"
    )
    with pytest.raises(llmtap.ConfigError, match=r"meter_provider=42: expected an opentelemetry MeterProvider"):
        llmtap.instrument(meter_provider=42)  # type: ignore[arg-type]
    with pytest.raises(llmtap.ConfigError, match=r"providers='openai': expected a list of provider names"):
        llmtap.instrument(providers="openai")  # type: ignore[arg-type]


def test_a_bad_route_queue_or_logger_provider_given_in_code_raises_at_the_call_and_records_nothing(
    clean_env: pytest.MonkeyPatch,
) -> None:
    telemetry = Telemetry()
    routes = [{"name": "errors", "when": "trace.eror", "actions": ["dataset:errors"]}]
    with pytest.raises(llmtap.ConfigError) as caught:
        llmtap.instrument(tracer_provider=telemetry.tracer_provider, config={"routes": routes})
    assert str(caught.value) == (
        "instrument(config=...): routes[0] 'errors'.when: trace has no field 'eror' at 1:7; expected one of cost, "
        "duration_ms, error, input_tokens, model_calls, output_tokens, root_name, span_count, trace_id\n"
        "  | trace.eror\n"
        "  |       ^"
    )
    queues = {"review": {"annotations": ["quality"]}}
    with pytest.raises(llmtap.ConfigError) as caught:
        llmtap.instrument(tracer_provider=telemetry.tracer_provider, config={"queues": queues})
    assert str(caught.value) == (
        "instrument(config=...): [tool.llmtap.queues.review]: annotations: 'quality' is not declared in "
        "[tool.llmtap.annotations]; expected one of: none are declared"
    )
    with pytest.raises(llmtap.ConfigError) as caught:
        llmtap.instrument(tracer_provider=telemetry.tracer_provider, logger_provider="otlp")  # type: ignore[arg-type]
    assert str(caught.value) == (
        "logger_provider='otlp': expected an opentelemetry LoggerProvider or None "
        "(exporters are chosen with OTEL_LOGS_EXPORTER)"
    )
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", Reply(body=wire.chat_completion("Hi!")))
        _chat(api)
    assert telemetry.spans() == []


def test_misspellings_are_warned_once_naming_the_closest_known_name(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, telemetry: Telemetry
) -> None:
    clean_env.setenv("LLMTAP_CAPTUR_CONTENT", "false")
    clean_env.setenv("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "opneai,anthropic")
    with caplog.at_level(logging.INFO, logger="llmtap"):
        llmtap.instrument(tracer_provider=telemetry.tracer_provider)
        llmtap.instrument(tracer_provider=telemetry.tracer_provider)
    assert _llmtap_records(caplog) == [
        (
            logging.WARNING,
            "llmtap: LLMTAP_CAPTUR_CONTENT is not an llmtap setting and is ignored; did you mean "
            "LLMTAP_CAPTURE_CONTENT?",
        ),
        (
            logging.WARNING,
            "llmtap: OTEL_PYTHON_DISABLED_INSTRUMENTATIONS names 'opneai', which no installed instrumentation has, "
            "so it disables nothing; did you mean openai?",
        ),
    ]


def test_providers_naming_a_library_that_is_not_installed_is_warned(
    clean_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, telemetry: Telemetry
) -> None:
    clean_env.setitem(sys.modules, "anthropic", None)  # the standard way to make a module unimportable
    with caplog.at_level(logging.INFO, logger="llmtap"):
        llmtap.instrument(providers=["anthropic"], tracer_provider=telemetry.tracer_provider)
    assert _llmtap_records(caplog) == [
        (
            logging.WARNING,
            "llmtap: providers=['anthropic']: the anthropic library is not installed, so there is nothing to "
            "instrument for anthropic",
        )
    ]


def test_otlp_exports_are_bounded_unless_the_user_set_a_timeout() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    [traces] = providers.plan(env, "traces")
    assert (traces.exporter, traces.protocol, traces.endpoint, traces.timeout_s) == (
        "otlp",
        "http",
        "http://collector:4318/v1/traces",
        providers.EXPORT_TIMEOUT_S,
    )
    assert providers.EXPORT_TIMEOUT_S <= 2
    [metrics] = providers.plan({**env, "OTEL_EXPORTER_OTLP_TIMEOUT": "30"}, "metrics")
    assert (metrics.endpoint, metrics.timeout_s) == ("http://collector:4318/v1/metrics", None)
    [logs] = providers.plan(env, "logs")
    assert (logs.endpoint, logs.timeout_s) == ("http://collector:4318/v1/logs", providers.EXPORT_TIMEOUT_S)
    with pytest.raises(llmtap.ConfigError, match=r"OTEL_EXPORTER_OTLP_PROTOCOL='http/json': unknown OTLP protocol"):
        providers.plan({**env, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "traces")
    with pytest.raises(llmtap.ConfigError) as caught:
        providers.plan({**env, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "traces")
    assert str(caught.value) == (
        "OTEL_EXPORTER_OTLP_ENDPOINT='http://collector:4318' asks for OTLP over gRPC but "
        "opentelemetry-exporter-otlp-proto-grpc is not installed; expected `pip install "
        "opentelemetry-exporter-otlp-proto-grpc`"
    )


def test_commands_that_check_the_configuration_fail_on_a_bad_value(clean_env: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from llmtap.cli import main

    clean_env.setenv("LLMTAP_LABELS_MODE", "loud")
    result = CliRunner().invoke(main, ["labels", "check"])
    assert (result.exit_code, result.output) == (1, "Error: LLMTAP_LABELS_MODE='loud': expected warn, strict or drop\n")
