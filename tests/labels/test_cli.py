"""`llmtap labels check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmtap.cli import main

CONFIG = """
[labels.user_id]
type = "string"
required = true
propagate = true
description = "end user"

[labels.feature_flag]
type = "enum"
values = ["new-rag", "old-rag"]
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("LLMTAP_TAGS", "LLMTAP_LABELS_MODE", "LLMTAP_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "llmtap.toml"
    path.write_text(CONFIG)
    return path


def test_prints_schema_and_accepts_good_labels(config: Path) -> None:
    result = CliRunner().invoke(main, ["labels", "check", "--config", str(config), "--labels", "user_id=u1"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"label schema from {config} (mode: warn)",
        "  feature_flag: enum[new-rag, old-rag]",
        "  user_id: string (required, propagate) - end user",
        "ok   --labels user_id=u1",
        "1 sample(s) checked, 0 with problems",
    ]


def test_reports_bad_samples_from_a_file_and_fails(config: Path, tmp_path: Path) -> None:
    samples = tmp_path / "samples.jsonl"
    rows = [
        {"user_id": "u1", "feature_flag": "new-rag"},
        {"attributes": {"llmtap.tag.feature_flag": "beta", "gen_ai.operation.name": "chat"}},
    ]
    samples.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    result = CliRunner().invoke(main, ["labels", "check", "--config", str(config), "--file", str(samples)])
    assert result.exit_code == 1
    assert result.output.splitlines()[3:] == [
        f"ok   {samples}:1",
        f"FAIL {samples}:2: label feature_flag='beta': expected one of new-rag, old-rag",
        f"FAIL {samples}:2: required label 'user_id' is missing",
        "2 sample(s) checked, 1 with problems",
    ]


def test_required_labels_are_checked_on_llm_spans_and_label_objects_only(config: Path, tmp_path: Path) -> None:
    samples = tmp_path / "spans.jsonl"
    rows = [
        {"name": "invoke_workflow rag", "attributes": {"gen_ai.operation.name": "invoke_workflow"}},
        {"name": "execute_tool add", "attributes": {"gen_ai.operation.name": "execute_tool"}},
        {"name": "GET /items", "attributes": {"http.request.method": "GET", "llmtap.tag.feature_flag": "new-rag"}},
        {"name": "chat gpt-4", "attributes": {"gen_ai.operation.name": "chat", "llmtap.tag.user_id": "u1"}},
        {"name": "embeddings m", "attributes": {"gen_ai.operation.name": "embeddings"}},
        {"feature_flag": "new-rag"},
    ]
    samples.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    result = CliRunner().invoke(main, ["labels", "check", "--config", str(config), "--file", str(samples)])
    assert result.exit_code == 1
    assert result.output.splitlines()[3:] == [
        f"ok   {samples}:1",
        f"ok   {samples}:2",
        f"ok   {samples}:3",
        f"ok   {samples}:4",
        f"FAIL {samples}:5: required label 'user_id' is missing",
        f"FAIL {samples}:6: required label 'user_id' is missing",
        "6 sample(s) checked, 2 with problems",
    ]


def test_llmtap_tags_is_not_checked_for_required_labels(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTAP_TAGS", "feature_flag=new-rag")
    result = CliRunner().invoke(main, ["labels", "check", "--config", str(config)])
    assert result.exit_code == 0
    assert result.output.splitlines()[3:] == ["ok   LLMTAP_TAGS", "1 sample(s) checked, 0 with problems"]


def test_malformed_schema_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMTAP_LABELS_MODE", raising=False)
    path = tmp_path / "bad.toml"
    path.write_text('[labels.n]\ntype = "number"\n')
    result = CliRunner().invoke(main, ["labels", "check", "--config", str(path)])
    assert result.exit_code == 1
    assert result.output == (f"Error: {path}: labels.n.type='number': expected one of string, enum, int, float, bool\n")


def test_checks_the_labels_of_the_newest_stored_llm_spans(
    config: Path, tmp_path: Path, telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    import llmtap
    import openai
    from llmtap.store import TraceQuery, open_store
    from llmtap.store.exporter import StoreSpanExporter
    from tests.support import openai_wire
    from tests.support.loopback import LoopbackAPI, Reply

    for name in ("LLMTAP_CAPTURE_CONTENT", "LLMTAP_ENABLED", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "llmtap.db"
    telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(StoreSpanExporter(path)))
    llmtap.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, config={})
    try:
        with LoopbackAPI() as api:
            api.route("POST", "/v1/chat/completions", Reply(body=openai_wire.chat_completion("Hi.")))
            client = openai.OpenAI(api_key="sk-test-labels", base_url=f"{api.base_url}/v1", max_retries=0)
            for labels in ({"user_id": "u1", "feature_flag": "new-rag"}, {"feature_flag": "beta"}):
                with llmtap.tags(**labels):

                    @llmtap.workflow(name="answer")  # a workflow span need not carry the required label
                    def answer() -> None:
                        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])

                    answer()
    finally:
        llmtap.uninstrument()
    store = open_store(path, create=False)
    older, newer = reversed(store.trace_ids(TraceQuery(limit=2)))
    spans = {
        trace_id: next(s for s in store.get_trace(trace_id).spans if s.kind == "CLIENT") for trace_id in (older, newer)
    }
    store.close()

    def where(trace_id: str) -> str:
        return f"trace {trace_id[:8]} span {spans[trace_id].span_id} (chat gpt-4o-mini)"

    result = CliRunner().invoke(main, ["labels", "check", "--config", str(config), "--store", str(path)])
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[3:] == [
        f"FAIL {where(newer)}: label feature_flag='beta': expected one of new-rag, old-rag",
        f"FAIL {where(newer)}: required label 'user_id' is missing",
        f"ok   {where(older)}",
        "2 sample(s) checked, 1 with problems",
    ]
    result = CliRunner().invoke(
        main, ["labels", "check", "--config", str(config), "--store", str(path), "--sample", "1"]
    )
    assert result.output.splitlines()[-1] == "1 sample(s) checked, 1 with problems"
