"""Export rows checked one by one against each format's published shape (OpenAI's fine-tuning chat format,
its DPO preference format) and their exact content, from traces made by the real openai SDK."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

import llmtap
import openai
from llmtap.config import load_settings
from llmtap.export import ExportError, Source, export
from llmtap.review import ReviewQueues
from llmtap.store import open_store
from llmtap.store.api import TraceQuery
from tests.support import openai_wire
from tests.support.finetuning import check_chat_row, check_preference_row
from tests.support.loopback import LoopbackAPI, Reply

WEATHER_CALL = {
    "id": "call_w1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
SYSTEM = {"role": "system", "content": "Answer briefly."}
USER = {"role": "user", "content": "Weather in Paris?"}


def tool_call_completion() -> dict[str, Any]:
    body = openai_wire.chat_completion("", completion_id="chatcmpl-tool0001", finish_reason="tool_calls")
    body["choices"][0]["message"].update(content=None, tool_calls=[WEATHER_CALL])
    return body


def weather_trace(api: LoopbackAPI) -> str:
    """A workflow: the model asks for a tool, the tool answers, the model answers (two openai SDK calls)."""
    client = openai.OpenAI(api_key="sk-test-review", base_url=f"{api.base_url}/v1", max_retries=0)

    @llmtap.workflow(name="weather")
    def run() -> str:
        messages: list[Any] = [SYSTEM, USER]
        api.route("POST", "/v1/chat/completions", Reply(body=tool_call_completion()))
        first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL])
        messages.append(
            first.choices[0].message.model_dump(exclude_none=True, include={"role", "content", "tool_calls"})
        )
        messages.append({"role": "tool", "tool_call_id": "call_w1", "content": '{"temp_c": 18}'})
        api.route("POST", "/v1/chat/completions", Reply(body=openai_wire.chat_completion("It is 18 C.")))
        client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL])
        return llmtap.current_span_ref().trace_id

    return run()


def read(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


@pytest.fixture
def reviewed(traced, api: LoopbackAPI):
    run = traced(["Paris."])  # a plain question, reviewed good, no correction
    corrected = weather_trace(api)  # reviewed bad, with a correction
    run.trace_ids.append(corrected)
    _flush()
    queues = ReviewQueues(open_store(run.store_path), run.settings)
    return run, queues


def _flush() -> None:
    from llmtap import runtime

    state = runtime.current()
    assert state is not None and state.tracer_provider.force_flush(10_000)


def test_chat_eval_and_preference_rows(reviewed) -> None:
    run, queues = reviewed
    plain, corrected = run.trace_ids
    for trace_id in (plain, corrected):
        queues.add("review", trace_id)
    first = queues.next("review", "ana")
    queues.submit(first.item.item_id, "ana", {"human_feedback": "good"})
    second = queues.next("review", "ana")
    queues.submit(second.item.item_id, "ana", {"human_feedback": "bad", "correction": "It is 18 C and sunny."})
    store = open_store(run.store_path)
    detail = store.get_trace(corrected)
    answer_span = [span for span in detail.spans if span.kind == "CLIENT"][-1]

    out = io.StringIO()
    summary = export(store, Source(queue="review"), "chat", out)
    assert summary.as_dict() == {
        "format": "chat",
        "source": "queue review",
        "output": "-",
        "traces": 2,
        "rows": 2,
        "skipped": 0,
    }
    plain_row, corrected_row = read(out)
    for line in (plain_row, corrected_row):
        check_chat_row(line)
    assert plain_row["messages"] == [
        SYSTEM,
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "Paris."},
    ]
    assert corrected_row["messages"] == [
        SYSTEM,
        USER,
        {"role": "assistant", "content": None, "tool_calls": [WEATHER_CALL]},
        {"role": "tool", "tool_call_id": "call_w1", "content": '{"temp_c": 18}'},
        {"role": "assistant", "content": "It is 18 C and sunny."},  # the correction replaces "It is 18 C."
    ]
    assert "tools" not in plain_row  # no tool offered to that call
    assert corrected_row["tools"] == [WEATHER_TOOL]  # the functions the model was offered, as the API took them
    provenance = corrected_row["llmtap"]
    assert provenance["trace_id"] == corrected and provenance["span_id"] == answer_span.span_id
    assert provenance["annotations"] == [
        {
            "name": "correction",
            "schema": "correction@1",
            "annotator": "ana",
            "annotator_kind": "human",
            "time": provenance["annotations"][0]["time"],
        }
    ]
    assert provenance["annotators"] == ["ana"] and provenance["model"] == "gpt-4o-mini-2024-07-18"

    out = io.StringIO()
    export(store, Source(queue="review"), "preference", out)
    (pair,) = read(out)  # only the corrected trace makes a pair
    check_preference_row(pair)
    assert pair["input"] == {"messages": corrected_row["messages"][:-1], "tools": [WEATHER_TOOL]}
    assert pair["preferred_output"] == [{"role": "assistant", "content": "It is 18 C and sunny."}]
    assert pair["non_preferred_output"] == [{"role": "assistant", "content": "It is 18 C."}]

    assert store.add_to_dataset("golden", corrected) and store.add_to_dataset("golden", plain)
    out = io.StringIO()
    summary = export(store, Source(dataset="golden"), "preference", out)
    assert (summary.traces, summary.rows, summary.skipped) == (2, 1, 1)  # the plain trace has no correction
    assert read(out) == [pair]

    out = io.StringIO()
    export(store, Source(query=TraceQuery(annotations={"human_feedback": "bad"})), "eval", out, provenance="none")
    (evaluated,) = read(out)
    assert evaluated == {
        "input": corrected_row["messages"][:-1],
        "output": {"role": "assistant", "content": "It is 18 C."},
        "expected_output": "It is 18 C and sunny.",
        "labels": {},
        "annotations": {"correction": "It is 18 C and sunny.", "human_feedback": "bad"},
        # two gpt-4o-mini calls of 12 input and 5 output tokens at $0.15 / $0.60 per million
        "cost": pytest.approx(2 * (12 * 0.15 + 5 * 0.60) / 1e6),
        "error": False,
    }

    # `model`: each row from the trace's last call of that model (request or response model name); a trace
    # with no call of it has no row. (The demo's traces, whose last call is another model's, test the choice.)
    for model in ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"):
        out = io.StringIO()
        export(store, Source(queue="review"), "chat", out, model=model)
        assert read(out) == [plain_row, corrected_row]
    summary = export(store, Source(queue="review"), "chat", io.StringIO(), model="claude-haiku-4-5")
    assert (summary.traces, summary.rows, summary.skipped) == (2, 0, 2)


def test_a_queue_item_is_exported_once_as_many_reviewers_as_the_queue_asks_for_have_reviewed_it(
    traced, api: LoopbackAPI
) -> None:
    run = traced(["Paris."])
    queues = ReviewQueues(open_store(run.store_path), run.settings)
    queues.add("pair", run.trace_ids[0])  # declared with reviewers = 2
    store = open_store(run.store_path)
    first = queues.next("pair", "ana")
    queues.submit(first.item.item_id, "ana", {"human_feedback": "good", "quality": 4, "grounded": True})
    assert queues.item(first.item.item_id).state == "pending"
    summary = export(store, Source(queue="pair"), "eval", io.StringIO())
    assert (summary.traces, summary.rows) == (0, 0)  # one review of two: not completed yet
    second = queues.next("pair", "bo")
    queues.submit(second.item.item_id, "bo", {"human_feedback": "good", "quality": 5, "grounded": True})
    summary = export(store, Source(queue="pair"), "eval", io.StringIO())
    assert (summary.traces, summary.rows) == (1, 1)
    with pytest.raises(ExportError) as caught:
        export(store, Source(queue="reveiw"), "chat", io.StringIO())
    assert str(caught.value) == "queue 'reveiw': not declared in [tool.llmtap.queues]; expected one of: pair, review"


def test_bad_options_are_named(reviewed, tmp_path: Path) -> None:
    run, _queues = reviewed
    store = open_store(run.store_path)
    with pytest.raises(ExportError, match=r"format='csv': expected one of chat, eval, preference"):
        export(store, Source(queue="review"), "csv", io.StringIO())
    with pytest.raises(ExportError, match=r"expected exactly one source"):
        export(store, Source(queue="review", dataset="d"), "chat", io.StringIO())
    with pytest.raises(ExportError, match=r"provenance='file': expected one of row, none"):
        export(store, Source(queue="review"), "chat", io.StringIO(), provenance="file")
    # A dataset name nothing ever used is a mistake (a typo), not an empty export.
    with pytest.raises(ExportError) as caught:
        export(store, Source(dataset="golden"), "chat", io.StringIO())
    assert str(caught.value) == (
        "dataset 'golden': no trace was added to it and no route adds to it; expected one of: none exist yet"
    )
    assert store.add_to_dataset("kept", run.trace_ids[0])
    assert export(store, Source(dataset="kept"), "chat", io.StringIO()).rows == 1
    with pytest.raises(ExportError, match=r"^dataset 'kpet': .*; expected one of: kept$"):
        export(store, Source(dataset="kpet"), "chat", io.StringIO())
    # A dataset a route adds to, before any trace matched it: empty, no error.
    routed = load_settings(config={"routes": [{"name": "r", "when": "trace.error", "actions": ["dataset:later"]}]})
    assert export(store, Source(dataset="later"), "chat", io.StringIO(), settings=routed).traces == 0
