"""The label schema and the three modes, with bad input."""

from __future__ import annotations

import logging

import pytest

import llmtap
from llmtap.errors import ConfigError
from llmtap.labels.schema import LabelProblem, parse_schema
from tests.labels.conftest import Setup, tag_attributes


def test_values_are_normalised_to_their_declared_type(labelled: Setup) -> None:
    telemetry = labelled(tags="retries=3,temperature=0.5,beta=yes")
    with llmtap.tags(feature_flag="new-rag", user_id=1234):
        telemetry.tracer_provider.get_tracer("web").start_span("s").end()
    (span,) = telemetry.spans()
    assert tag_attributes(span) == {
        "llmtap.tag.retries": 3,
        "llmtap.tag.temperature": 0.5,
        "llmtap.tag.beta": True,
        "llmtap.tag.feature_flag": "new-rag",
        "llmtap.tag.user_id": "1234",
        "user.id": "1234",
    }


def test_warn_mode_logs_once_per_key_and_keeps_the_label(labelled: Setup, caplog: pytest.LogCaptureFixture) -> None:
    telemetry = labelled()
    caplog.set_level(logging.WARNING, logger="llmtap")
    for _ in range(3):
        with llmtap.tags(feature_flag="beta-rag", colour="red"):
            telemetry.tracer_provider.get_tracer("web").start_span("s").end()
    assert [record.getMessage() for record in caplog.records] == [
        "llmtap: label feature_flag='beta-rag': expected one of new-rag, old-rag "
        "(LLMTAP_LABELS_MODE=warn; logged once per label)",
        "llmtap: label colour='red': unknown label; expected one of app_feature, beta, feature_flag, "
        "human_feedback, retries, session_id, temperature, user_id, user_segment "
        "(LLMTAP_LABELS_MODE=warn; logged once per label)",
    ]
    assert [tag_attributes(span) for span in telemetry.spans()] == [
        {"llmtap.tag.feature_flag": "beta-rag", "llmtap.tag.colour": "red"}
    ] * 3


def test_strict_bool_label_accepts_integer_one_and_zero(labelled: Setup) -> None:
    telemetry = labelled(mode="strict")
    with llmtap.tags(beta=1):
        assert llmtap.current_tags() == {"beta": True}
        telemetry.tracer_provider.get_tracer("web").start_span("s").end()
    with llmtap.tags(beta=0):
        assert llmtap.current_tags() == {"beta": False}
    assert [tag_attributes(span) for span in telemetry.spans()] == [{"llmtap.tag.beta": True}]
    with pytest.raises(llmtap.LabelError, match=r"^label beta=2: expected a boolean \(true/false, 1/0, yes/no"):
        llmtap.tags(beta=2).__enter__()
    assert llmtap.current_tags() == {}


def test_strict_mode_raises_at_the_call_site(labelled: Setup) -> None:
    labelled(mode="strict")
    with pytest.raises(llmtap.LabelError, match=r"^label retries='many': expected a whole number$"):
        with llmtap.tags(retries="many"):
            pytest.fail("the block must not run")
    with pytest.raises(llmtap.LabelError, match=r"^label colour='red': unknown label; expected one of app_feature"):
        llmtap.tags(colour="red").__enter__()
    assert llmtap.current_tags() == {}

    @llmtap.tags(beta="maybe")
    def decorated() -> None:
        pytest.fail("the function must not run")

    with pytest.raises(llmtap.LabelError, match=r"^label beta='maybe': expected a boolean"):
        decorated()


def test_strict_mode_logs_a_bad_llmtap_tags_and_turns_llmtap_off(
    labelled: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    # LLMTAP_TAGS comes from the environment: never an exception out of instrument() (issue 9 §2)
    with caplog.at_level(logging.ERROR, logger="llmtap"):
        telemetry = labelled(mode="strict", tags="user_segment=vip")
    assert [record.getMessage() for record in caplog.records] == [
        "llmtap: label user_segment='vip': expected one of free, pro; llmtap is off"
    ]
    telemetry.tracer_provider.get_tracer("web").start_span("s").end()
    assert [tag_attributes(span) for span in telemetry.spans()] == [{}]


def test_drop_mode_drops_and_counts(labelled: Setup) -> None:
    telemetry = labelled(mode="drop", tags="retries=x")
    for _ in range(2):
        with llmtap.tags(user_id="u1", temperature="hot", colour="red"):
            telemetry.tracer_provider.get_tracer("web").start_span("s").end()
    assert [tag_attributes(span) for span in telemetry.spans()] == [{"llmtap.tag.user_id": "u1", "user.id": "u1"}] * 2
    assert llmtap.labels.dropped_counts() == {"retries": 1, "temperature": 2, "colour": 2}


def test_bad_mode_from_the_environment_is_logged_and_turns_llmtap_off(
    labelled: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="llmtap"):
        labelled(mode="loud")
    assert [record.getMessage() for record in caplog.records] == [
        "llmtap: LLMTAP_LABELS_MODE='loud': expected warn, strict or drop; llmtap is off"
    ]
    with pytest.raises(ConfigError, match=r"^instrument\(config=...\): labels_mode='loud': expected warn, strict"):
        llmtap.instrument(config={"labels_mode": "loud"})


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"a": {"type": "text"}}, "cfg: labels.a.type='text': expected one of string, enum, int, float, bool"),
        ({"a": {"type": "enum"}}, "cfg: labels.a.values=None: expected a non-empty list of values for an enum"),
        ({"a": {"type": "int", "values": [1]}}, "cfg: labels.a.values: only an enum takes values; type is 'int'"),
        ({"a": {"required": "yes"}}, "cfg: labels.a.required='yes': expected true or false"),
        (
            {"a": {"kind": "int"}},
            "cfg: labels.a: unknown field 'kind'; expected one of description, metric, propagate, required",
        ),
        (
            {"a": "int"},
            "cfg: labels.a='int': expected a table with description, metric, propagate, required, type, values",
        ),
    ],
)
def test_schema_errors_name_the_bad_value(table: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_schema(table, "cfg")
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("int", "42", 42),
        ("int", 7.0, 7),
        ("float", "1e3", 1000.0),
        ("float", 2, 2.0),
        ("bool", "off", False),
        ("bool", 1, True),
        ("bool", 0, False),
        ("bool", True, True),
        ("bool", "1", True),
        ("string", True, "true"),
        ("string", 3, "3"),
    ],
)
def test_normalise(kind: str, raw: object, expected: object) -> None:
    spec = parse_schema({"k": {"type": kind}})["k"]
    value = spec.normalise(raw)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        ("int", "4.5", "label k='4.5': expected a whole number"),
        ("int", True, "label k=True: expected a whole number"),
        ("float", "nan", "label k='nan': expected a finite number"),
        ("bool", 2, "label k=2: expected a boolean (true/false, 1/0, yes/no, on/off)"),
        ("bool", -1, "label k=-1: expected a boolean (true/false, 1/0, yes/no, on/off)"),
        ("bool", 1.0, "label k=1.0: expected a boolean (true/false, 1/0, yes/no, on/off)"),
        ("string", ["x"], "label k=['x']: expected a string, number or boolean"),
    ],
)
def test_normalise_rejects(kind: str, raw: object, message: str) -> None:
    spec = parse_schema({"k": {"type": kind}})["k"]
    with pytest.raises(LabelProblem) as caught:
        spec.normalise(raw)
    assert str(caught.value) == message
