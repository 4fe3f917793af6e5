"""Loose values given in code are refused or converted, clearly: never recorded as something else."""

from __future__ import annotations

import logging

import pytest

import llmtap
from tests.support.telemetry import Telemetry


def test_a_none_label_is_left_out_and_logged_never_the_text_none(
    instrumented: Telemetry, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="llmtap"), llmtap.tags(user_id=None, team="red"):
        assert llmtap.current_tags() == {"team": "red"}
        with instrumented.tracer_provider.get_tracer("app").start_as_current_span("handler"):
            pass
    [span] = instrumented.spans()
    assert dict(span.attributes) == {"llmtap.tag.team": "red"}
    assert [record.getMessage() for record in caplog.records] == [
        "llmtap: label user_id=None: expected a string, number or boolean (None is no value: left out) "
        "(LLMTAP_LABELS_MODE=warn; logged once per label)"
    ]


def test_a_none_label_raises_in_strict_mode(telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMTAP_LABELS_MODE", raising=False)
    llmtap.instrument(tracer_provider=telemetry.tracer_provider, config={"labels_mode": "strict"})
    try:
        with pytest.raises(llmtap.LabelError, match=r"label session_id=None: expected a string, number or boolean"):
            with llmtap.tags(session_id=None):
                pass
    finally:
        llmtap.uninstrument()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"output_tokens": -3}, "set_usage(output_tokens=-3): expected a whole number of tokens >= 0"),
        ({"input_tokens": "eight"}, "set_usage(input_tokens='eight'): expected a whole number of tokens >= 0"),
        ({"input_tokens": 2.5}, "set_usage(input_tokens=2.5): expected a whole number of tokens >= 0"),
        ({"input_tokens": True}, "set_usage(input_tokens=True): expected a whole number of tokens >= 0"),
    ],
)
def test_bad_token_counts_raise_naming_value_and_expectation(
    instrumented: Telemetry, kwargs: dict, message: str
) -> None:
    with llmtap.LLMTracer().trace_llm_call(model_name="m", prompt="p") as span:
        with pytest.raises(llmtap.UsageError) as caught:
            span.set_usage(**kwargs)
        assert str(caught.value) == message
        assert isinstance(caught.value, llmtap.LlmtapError) and isinstance(caught.value, ValueError)
    assert "gen_ai.usage.input_tokens" not in instrumented.only_span().attributes


def test_token_counts_given_as_digit_strings_or_integral_floats_are_converted(instrumented: Telemetry) -> None:
    with llmtap.LLMTracer().trace_llm_call(model_name="m", prompt="p") as span:
        span.set_usage(input_tokens="8", output_tokens=7.0)
    attributes = instrumented.only_span().attributes
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (8, 7)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model_name": None}, "trace_llm_call(model_name=None): expected a non-empty string"),
        ({"model_name": ""}, "trace_llm_call(model_name=''): expected a non-empty string"),
        ({"prompt": 3}, "trace_llm_call(prompt=3): expected a string or None"),
        (
            {"messages": "hi"},
            'trace_llm_call(messages=\'hi\'): expected a list of {"role": ..., "content": ...} dicts',
        ),
        (
            {"messages": ["hi"]},
            'trace_llm_call(messages=[\'hi\']): expected a list of {"role": ..., "content": ...} dicts',
        ),
        ({"tags": "user_id=u1"}, "trace_llm_call(tags='user_id=u1'): expected a mapping of label names to values"),
        ({"provider": 7}, "trace_llm_call(provider=7): expected a non-empty string or None"),
    ],
)
def test_bad_manual_call_arguments_raise_at_the_call_naming_value_and_expectation(
    instrumented: Telemetry, kwargs: dict, message: str
) -> None:
    arguments = {"model_name": "m", "prompt": "p", **kwargs}
    ran = False
    with pytest.raises(llmtap.UsageError) as caught:
        with llmtap.LLMTracer().trace_llm_call(**arguments):
            ran = True
    assert str(caught.value) == message
    assert not ran
    assert instrumented.spans() == []
    with pytest.raises(llmtap.UsageError, match=r"^LLMTracer\(provider=''\): expected a non-empty string or None$"):
        llmtap.LLMTracer(provider="")
