"""The pytest plugin (`llmtap_capture`), used the way an application team uses it: a real pytest run over
a small test file of an "application" calling the OpenAI SDK against the loopback API."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest_plugins = ["pytester"]

APP_TESTS = """
import openai
import pytest

import llmtap
from llmtap_openai import OpenAIInstrumentor
from tests.support import openai_wire as wire
from tests.support.loopback import LoopbackAPI, Reply

QUESTION = "What is the capital of France?"


@pytest.fixture
def client():
    reply = Reply(body=wire.chat_completion("Paris.", usage=wire.chat_usage(21, 3)))
    with LoopbackAPI() as api:
        api.route("POST", "/v1/chat/completions", reply)
        yield openai.OpenAI(api_key="sk-test-not-a-key", base_url=api.base_url + "/v1", max_retries=0)


def answer(client, question, user_id):  # the application's feature under test
    with llmtap.tags(user_id=user_id, feature="qa"):
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": question}])
    return reply.choices[0].message.content


def test_model_call(client, llmtap_capture):
    assert answer(client, QUESTION, "u1") == "Paris."
    call = llmtap_capture.model_call(model="gpt-4o-mini")
    assert (call.name, call.provider, call.operation) == ("chat gpt-4o-mini", "openai", "chat")
    assert call.response_model == "gpt-4o-mini-2024-07-18"
    assert (call.input_tokens, call.output_tokens) == (21, 3)
    assert call.labels == {"user_id": "u1", "feature": "qa"}
    call.assert_labels(user_id="u1")
    assert call.input_messages == [{"role": "user", "parts": [{"type": "text", "content": QUESTION}]}]
    assert call.output_text == "Paris."
    assert call.error_type is None
    assert llmtap_capture.models() == ["gpt-4o-mini"]
    assert llmtap_capture.token_usage() == {"input": 21, "output": 3}
    assert llmtap_capture.token_usage(model="gpt-4o") == {}


@pytest.mark.llmtap(capture_content=False)
def test_no_content_when_capture_is_off(client, llmtap_capture):
    assert answer(client, QUESTION, "u2") == "Paris."
    call = llmtap_capture.model_call()
    assert (call.input_messages, call.output_text, call.content_attributes) == (None, None, [])
    assert call.labels["user_id"] == "u2"
    llmtap_capture.assert_no_content()
    llmtap_capture.assert_not_exported(QUESTION)


def test_content_is_reported_when_captured(client, llmtap_capture):
    answer(client, QUESTION, "u3")
    with pytest.raises(AssertionError) as caught:
        llmtap_capture.assert_no_content()
    assert str(caught.value).startswith("content was captured: chat gpt-4o-mini: gen_ai.input.messages; ")
    with pytest.raises(AssertionError, match="'What is the capital of France[?]' was exported"):
        llmtap_capture.assert_not_exported(QUESTION)


def test_model_call_wrapped_by_the_manual_api_is_the_sdk_call(client, llmtap_capture):
    with llmtap.LLMTracer().trace_llm_call(model_name="router", prompt="route this") as span:
        answer(client, QUESTION, "u4")
        span.set_response("routed")
    assert [span.name for span in llmtap_capture.spans()] == ["chat gpt-4o-mini", "invoke_workflow router"]
    assert [call.name for call in llmtap_capture.model_calls()] == ["chat gpt-4o-mini"]
    assert llmtap_capture.model_calls(provider="custom") == []


@pytest.mark.llmtap(config={"tags": {"env": "ci"}})
def test_marker_config(client, llmtap_capture):
    answer(client, QUESTION, "u5")
    assert llmtap_capture.model_call().labels == {"env": "ci", "user_id": "u5", "feature": "qa"}
    llmtap_capture.clear()
    assert llmtap_capture.spans() == []


def test_uninstrumented_after_the_test():
    assert not OpenAIInstrumentor().is_instrumented_by_opentelemetry


def test_wrong_label_fails_clearly(client, llmtap_capture):
    answer(client, QUESTION, "u6")
    llmtap_capture.model_call().assert_labels(user_id="u7", segment="pro")


def test_no_such_model_fails_clearly(client, llmtap_capture):
    answer(client, QUESTION, "u8")
    llmtap_capture.model_call(model="gpt-5")


@pytest.mark.llmtap(capture_contents=False)
def test_misspelled_marker_option(llmtap_capture):
    pass


@pytest.mark.llmtap(capture_content=False, config={"annotations_mode": "open"})
def test_annotations_are_searched_for_leaks_too(client, llmtap_capture):
    answer(client, QUESTION, "u9")
    trace_id = format(llmtap_capture.model_call().span.context.trace_id, "032x")
    llmtap.annotate(trace_id, "verdict", "ok", explanation="the customer wrote Où est ma carte")
    assert len(llmtap_capture.log_records()) == 1
    llmtap_capture.assert_not_exported("Où est ma carte")  # an explanation is content: not exported


def test_non_ascii_content_is_found(client, llmtap_capture):
    answer(client, "Où est la gare ?", "u10")
    with pytest.raises(AssertionError, match="'Où est la gare' was exported"):
        llmtap_capture.assert_not_exported("Où est la gare")
"""


def test_llmtap_capture_in_a_real_pytest_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("LLMTAP_CAPTURE_CONTENT", "false")  # the fixture ignores the developer's shell settings
    pytester.makepyfile(test_app=APP_TESTS)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:asyncio", "-rfE")

    result.assert_outcomes(passed=8, failed=2, errors=1)
    output = result.stdout.str()
    expected = [
        "AssertionError: chat gpt-4o-mini: labels {'user_id': 'u6', 'segment': '<missing>'} differ from the "
        "expected {'user_id': 'u7', 'segment': 'pro'}; the span has {'user_id': 'u6', 'feature': 'qa'}",
        "AssertionError: expected one model call with {'model': 'gpt-5'}, found 0; all model calls: "
        "[ModelCall('chat gpt-4o-mini', provider='openai', tokens in/out=21/3, labels={'user_id': 'u8', "
        "'feature': 'qa'})]",
        "UsageError: @pytest.mark.llmtap['capture_contents']: expected keyword arguments among "
        "('capture_content', 'config', 'providers')",
    ]
    assert [line for line in expected if line not in output] == []


def test_the_plugin_is_registered_by_entry_point(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--fixtures", "-p", "no:cacheprovider", "-p", "no:asyncio")
    result.stdout.fnmatch_lines(["llmtap_capture -- *llmtap*pytest_plugin.py:*"])
    result = pytester.runpytest_inprocess("--markers", "-p", "no:cacheprovider", "-p", "no:asyncio")
    result.stdout.fnmatch_lines(["@pytest.mark.llmtap(capture_content=None, config=None, providers=None): *"])
