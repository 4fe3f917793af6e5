"""Feedback tokens: round trip, and forged, expired, replayed and out-of-scope tokens refused."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

import llmtap
from llmtap.errors import ConfigError
from tests.annotations.conftest import Setup, ids, record_ids


def _ref(state: object) -> llmtap.SpanRef:
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        ref = span.ref
    assert ref is not None
    return ref


def test_round_trip(annotating: Setup) -> None:
    state = annotating()
    token = llmtap.feedback_token(_ref(state), names=["human_feedback"], annotator="user-9")
    assert isinstance(token, str) and "." in token
    annotation = llmtap.annotate_from_token(token, "human_feedback", "bad", explanation="wrong")
    assert (annotation.annotator_kind, annotation.annotator, annotation.value) == ("end_user", "user-9", "bad")
    record = state.only_record()
    assert record_ids(record) == ids(state.telemetry.only_span())
    assert record.log_record.attributes["llmtap.annotation.annotator_kind"] == "end_user"
    assert record.log_record.attributes["llmtap.annotation.annotator"] == "user-9"


def test_one_use_per_name(annotating: Setup) -> None:
    state = annotating()
    token = llmtap.feedback_token(_ref(state))
    llmtap.annotate_from_token(token, "human_feedback", "good")
    llmtap.annotate_from_token(token, "correction", "It is Paris.")  # another name: allowed once too
    with pytest.raises(llmtap.AnnotationError) as raised:
        llmtap.annotate_from_token(token, "human_feedback", "bad")
    assert str(raised.value) == (
        "feedback token refused: it was already used for annotation 'human_feedback'; each token allows one "
        "'human_feedback'"
    )
    assert len(state.records()) == 2


def test_a_bad_value_does_not_use_the_token_up(annotating: Setup) -> None:
    state = annotating()
    token = llmtap.feedback_token(_ref(state), names=["human_feedback"])
    with pytest.raises(llmtap.AnnotationError):
        llmtap.annotate_from_token(token, "human_feedback", "meh")
    llmtap.annotate_from_token(token, "human_feedback", "good")
    assert len(state.records()) == 1


def test_out_of_scope(annotating: Setup) -> None:
    state = annotating()
    token = llmtap.feedback_token(_ref(state), names=["human_feedback"])
    with pytest.raises(llmtap.AnnotationError) as raised:
        llmtap.annotate_from_token(token, "quality", 5, explanation="great")
    assert (
        str(raised.value)
        == "feedback token refused: annotation 'quality' is out of its scope; it allows human_feedback"
    )
    assert state.records() == []


def test_forged_and_altered(annotating: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    state = annotating()
    token = llmtap.feedback_token(_ref(state), names=["human_feedback"])
    payload, signature = token.rsplit(".", 1)
    altered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    resigned = payload + "." + ("x" if signature[0] != "x" else "y") + signature[1:]  # always a different signature
    message = (
        "feedback token refused: its signature does not match (forged, altered, or signed with another "
        "LLMTAP_FEEDBACK_SECRET)"
    )
    for bad in (altered, resigned, "e30.forged"):
        with pytest.raises(llmtap.AnnotationError) as raised:
            llmtap.annotate_from_token(bad, "human_feedback", "good")
        assert str(raised.value) == message
    monkeypatch.setenv("LLMTAP_FEEDBACK_SECRET", "another-secret-0123456789")
    with pytest.raises(llmtap.AnnotationError) as raised:
        llmtap.annotate_from_token(token, "human_feedback", "good")
    assert str(raised.value) == message
    with pytest.raises(llmtap.AnnotationError) as raised:
        llmtap.annotate_from_token(None, "human_feedback", "good")  # type: ignore[arg-type]
    assert str(raised.value) == "feedback token None refused: expected the string feedback_token() returned"
    assert state.records() == []


def test_expired(annotating: Setup) -> None:
    state = annotating()
    token = llmtap.feedback_token(_ref(state), ttl=timedelta(milliseconds=20))
    time.sleep(0.03)
    with pytest.raises(llmtap.AnnotationError) as raised:
        llmtap.annotate_from_token(token, "human_feedback", "good")
    assert str(raised.value).startswith("feedback token refused: it expired at 20")
    assert str(raised.value).endswith("+00:00; expected a token still within its ttl")
    assert state.records() == []


def test_a_join_key_token_for_a_front_end(annotating: Setup) -> None:
    state = annotating()
    token = llmtap.feedback_token({"join": {"label": "message_id", "value": "m-7"}}, names=["human_feedback"])
    annotation = llmtap.annotate_from_token(token, "human_feedback", "good")
    assert annotation.target.as_dict() == {"kind": "span", "join": {"label": "message_id", "value": "m-7"}}
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi", tags={"message_id": "m-7"}):
        pass
    assert record_ids(state.records()[1]) == ids(state.telemetry.only_span())


def test_trace_and_session_tokens(annotating: Setup) -> None:
    state = annotating()
    trace_token = llmtap.feedback_token("0af7651916cd43dd8448eb211c80319c")
    session_token = llmtap.feedback_token({"session_id": "s-1"}, names=["resolved"])
    llmtap.annotate_from_token(trace_token, "topic", "tech")
    llmtap.annotate_from_token(session_token, "resolved", "yes")
    assert [record_ids(record) for record in state.records()] == [
        (int("0af7651916cd43dd8448eb211c80319c", 16), 0),
        (0, 0),
    ]
    assert state.records()[1].log_record.attributes["session.id"] == "s-1"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"names": "human_feedback"},
            "names='human_feedback': expected a list of annotation names, e.g. ['human_feedback']",
        ),
        (
            {"names": ["nps"]},
            "names=['nps']: 'nps' is not a declared annotation; expected one of correction, human_feedback, quality, "
            "reason_code, relevance, resolved, topic",
        ),
        ({"ttl": 0}, "ttl=0: expected a positive number of seconds or a timedelta"),
        (
            {"ttl": timedelta(seconds=-1)},
            "ttl=datetime.timedelta(days=-1, seconds=86399): expected a positive number of seconds or a timedelta",
        ),
        ({"annotator": 7}, "annotator=7: expected a string (who the end user is) or None"),
    ],
)
def test_bad_token_requests(annotating: Setup, options: dict[str, object], message: str) -> None:
    annotating()
    with pytest.raises(llmtap.AnnotationError) as raised:
        llmtap.feedback_token("0af7651916cd43dd8448eb211c80319c", **options)  # type: ignore[arg-type]
    assert str(raised.value) == message


@pytest.mark.parametrize(("secret", "state"), [(None, "is not set"), ("short", "is too short (5 characters)")])
def test_the_secret_must_be_set(
    annotating: Setup, monkeypatch: pytest.MonkeyPatch, secret: str | None, state: str
) -> None:
    annotating()
    if secret is None:
        monkeypatch.delenv("LLMTAP_FEEDBACK_SECRET")
    else:
        monkeypatch.setenv("LLMTAP_FEEDBACK_SECRET", secret)
    with pytest.raises(ConfigError) as raised:
        llmtap.feedback_token("0af7651916cd43dd8448eb211c80319c")
    assert str(raised.value) == (
        f"LLMTAP_FEEDBACK_SECRET {state}: feedback tokens are signed with it; expected a random secret of at least 16 "
        "characters, the same in every process that checks the tokens "
        '(e.g. python -c "import secrets; print(secrets.token_urlsafe(32))")'
    )
