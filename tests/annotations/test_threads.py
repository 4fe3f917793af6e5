"""1,000 annotations from 8 threads: none lost, pending ones all resolved."""

from __future__ import annotations

import threading
from collections import Counter

import llmtap
from llmtap.annotations import pending
from tests.annotations.conftest import Setup

THREADS = 8
PER_THREAD = 125


def test_thousand_annotations_from_eight_threads(annotating: Setup) -> None:
    state = annotating()
    with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi") as span:
        ref = span.ref
    made: list[list[llmtap.Annotation]] = [[] for _ in range(THREADS)]
    start = threading.Barrier(THREADS)

    def work(number: int) -> None:
        start.wait()
        for index in range(PER_THREAD):
            if index % 2:
                key = f"m-{number}-{index}"
                made[number].append(
                    llmtap.annotate({"join": {"label": "message_id", "value": key}}, "human_feedback", "good")
                )
                with llmtap.LLMTracer().trace_llm_call(model_name="gpt-4", prompt="Hi", tags={"message_id": key}):
                    pass
            else:
                made[number].append(llmtap.annotate(ref, "quality", 1 + index % 5, explanation=f"t{number}"))

    threads = [threading.Thread(target=work, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    annotations = [annotation for batch in made for annotation in batch]
    assert len(annotations) == THREADS * PER_THREAD == 1000
    emitted = Counter(record.log_record.attributes["llmtap.annotation.id"] for record in state.records())
    joined = {annotation.id for annotation in annotations if annotation.target.join is not None}
    assert len(joined) == THREADS * (PER_THREAD // 2)
    assert set(emitted) == {annotation.id for annotation in annotations}
    # each join-key annotation twice (at once with its key, then linked to its span); the others once
    assert {count for annotation_id, count in emitted.items() if annotation_id in joined} == {2}
    assert {count for annotation_id, count in emitted.items() if annotation_id not in joined} == {1}
    assert len(pending.holder()) == 0
    spans = {span.attributes.get("llmtap.tag.message_id"): span for span in state.telemetry.genai_spans()}
    for record in state.records():
        key = record.log_record.attributes.get("llmtap.annotation.join.value")
        if key is not None and record.log_record.span_id:
            assert record.log_record.span_id == spans[key].context.span_id
