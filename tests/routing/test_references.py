"""What a condition can read (`llmtap.routing.references`), and that building only that changes no outcome."""

from __future__ import annotations

from typing import Any

import cel
import pytest

from llmtap.config import load_settings
from llmtap.routing import engine, load, references, variables
from llmtap.routing.references import ALL, Needs
from llmtap.routing.variables import AnnotationFacts, SpanFacts


def _needs(when: str) -> Needs:
    return references.analyse(when, cel.compile(when).variables())


def test_plain_selections_keep_only_the_fields_and_keys_read() -> None:
    needs = _needs(
        'trace.error && has(labels.feature) && labels["tier"] == "pro" && "rating" in annotations'
        ' && spans.exists(s, s.operation == "chat" && s.attributes["gen_ai.request.model"] == "x")'
        " && root.status == 'ERROR' && size(spans) > 2"
    )
    assert needs == Needs(
        names=frozenset({"trace", "labels", "annotations", "spans", "root"}),
        trace_fields=frozenset({"error"}),
        label_keys=frozenset({"feature", "tier"}),
        annotation_keys=frozenset({"rating"}),
        history_keys=frozenset(),
        span_fields=frozenset({"operation", "attributes", "status"}),
        attribute_keys=frozenset({"gen_ai.request.model"}),
    )


@pytest.mark.parametrize(
    ("when", "whole"),
    [
        ("size(trace) > 3", "trace_fields"),
        ("trace.size() > 3", "trace_fields"),
        ('labels.exists(k, k == "feature")', "label_keys"),
        ('"feature" + "" in labels', "label_keys"),
        ("size(annotation_history) > 1", "history_keys"),
        ("spans.exists(s, size(s) > 3)", "span_fields"),
        ('spans.filter(s, s.status == "ERROR").exists(t, t.model == "x")', "span_fields"),
        ('spans[0].model == "x"', "span_fields"),
        ('[root].exists(r, r.name == "x")', "span_fields"),
        ('spans.exists(s, s.attributes.exists(k, k == "x"))', "attribute_keys"),
        ('spans.exists(s, "x" + "" in s.attributes)', "attribute_keys"),
        ("root.attributes.size() > 0", "attribute_keys"),
    ],
)
def test_any_other_use_keeps_the_whole_map(when: str, whole: str) -> None:
    assert getattr(_needs(when), whole) is None


def test_strings_and_comments_are_not_read_as_references() -> None:
    needs = _needs('trace.root_name == "trace.cost spans" // root.name\n|| labels.a == \'b"c\'')
    assert (needs.trace_fields, needs.label_keys, needs.span_fields) == (
        frozenset({"root_name"}),
        frozenset({"a"}),
        frozenset(),
    )
    assert needs.names == frozenset({"trace", "labels"})


def test_a_filter_only_counted_needs_only_its_fields() -> None:
    for when in ('spans.filter(s, s.operation == "chat").size() >= 2', 'size(spans.filter(s, s.kind == "x")) > 0'):
        assert _needs(when).span_fields is not None
    assert _needs('spans.map(s, s.model).exists(m, m == "x")').span_fields == frozenset({"model"})


def test_combined_needs_are_the_union_and_whole_wins() -> None:
    combined = references.combine([_needs("trace.error"), _needs("trace.cost > 1.0"), _needs('labels.a == "b"')])
    assert (combined.trace_fields, combined.label_keys) == (frozenset({"error", "cost"}), frozenset({"a"}))
    assert references.combine([combined, _needs("size(trace) > 0")]).trace_fields is None


def _trace(variant: int) -> tuple[list[SpanFacts], list[AnnotationFacts]]:
    trace_id = f"{variant:032x}"
    tags = {"llmtap.tag.feature": "checkout" if variant % 2 else "search", "llmtap.tag.tier": variant}
    root = SpanFacts(trace_id, "a" * 16, None, "invoke_workflow answer", "INTERNAL", 0, 9_000_000, "UNSET", tags)
    spans = [root]
    for index in range(variant + 1):
        attributes: dict[str, Any] = {
            **tags,
            "gen_ai.operation.name": "chat" if index % 2 else "execute_tool",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": f"gpt-4o-{index}",
            "gen_ai.usage.input_tokens": 10 * index,
            "gen_ai.usage.output_tokens": 3,
            "llmtap.usage.cost": 0.001 * index,
            "retrieval_documents_count": index,
            "gen_ai.input.messages": "x" * (2000 if index == 1 else 10),
        }
        status = "ERROR" if index == 2 else "UNSET"
        kind = "CLIENT" if index % 2 else "INTERNAL"
        span_id = f"{index + 1:016x}"
        start = 1_000_000 * index
        name = f"span {index}"
        spans.append(SpanFacts(trace_id, span_id, "a" * 16, name, kind, start, start + 500, status, attributes))
    annotations = [AnnotationFacts("human_feedback", "good", 1)]
    if variant % 3 == 0:
        annotations.append(AnnotationFacts("human_feedback", "bad", 2))
    return spans, annotations


CONDITIONS = [
    "trace.error",
    'trace.root_name == "invoke_workflow answer" && trace.duration_ms > 1.0',
    "trace.input_tokens + trace.output_tokens > 20 || trace.cost > 0.002",
    'has(labels.feature) && labels.feature == "checkout"',
    "labels.tier > 1",
    '"tier" in labels && !("nope" in labels)',
    'annotations.human_feedback == "bad"',
    "size(annotation_history.human_feedback) > 1",
    'has(annotations.rating) || annotation_history["human_feedback"][0] == "good"',
    'spans.exists(s, s.operation == "execute_tool" && s.status == "ERROR")',
    'spans.filter(s, s.operation == "chat").size() >= 2',
    'spans.map(s, s.model).exists(m, m.endsWith("-3"))',
    "spans.exists(s, has(s.attributes.retrieval_documents_count) && s.attributes.retrieval_documents_count == 2)",
    'spans.exists(s, "gen_ai.input.messages" in s.attributes && size(s.attributes["gen_ai.input.messages"]) > 5)',
    'spans.all(s, s.cost >= 0.0 && s.input_tokens >= 0 && s.kind != "")',
    'root.status == "UNSET" && root.attributes["llmtap.tag.feature"] == "search"',
    "size(root.attributes) == 2 && size(spans[1]) == 14 && size(spans) > 3",
    'spans.exists_one(s, s.duration_ms > 0.0 && s.parent_span_id == root.span_id && s.span_id.endsWith("3"))',
    'labels.missing == "x"',
]


def _outcome(program: Any, values: dict[str, Any]) -> Any:
    try:
        return program.execute(values)
    except Exception as exc:
        return type(exc).__name__


T, F, KEY = True, False, "KeyError"
EXPECTED = [  # each condition's value on variants 0..4
    [F, F, T, T, T],
    [T, T, T, T, T],
    [F, F, T, T, T],
    [F, T, F, T, F],
    [F, F, T, T, T],
    [T, T, T, T, T],
    [T, F, F, T, F],
    [T, F, F, T, F],
    [T, T, T, T, T],
    [F, F, T, T, T],
    [F, F, F, T, T],
    [F, F, F, T, T],
    [F, F, T, T, T],
    [T, T, T, T, T],
    [T, T, T, T, T],
    [T, F, T, F, T],
    [F, F, T, T, T],
    [F, F, T, T, T],
    [KEY] * 5,
]


@pytest.mark.parametrize(("when", "expected"), list(zip(CONDITIONS, EXPECTED, strict=True)))
def test_building_only_what_a_condition_reads_gives_the_same_result(when: str, expected: list[Any]) -> None:
    program = cel.compile(when)
    needs = references.analyse(when, program.variables())
    full = [_outcome(program, variables.build(*_trace(variant), ALL)) for variant in range(5)]
    pruned = [_outcome(program, variables.build(*_trace(variant), needs)) for variant in range(5)]
    assert (full, pruned) == (expected, expected)


def test_same_tells_cel_types_apart() -> None:
    assert engine.same({"a": [1, "x", {"b": 2.5}]}, {"a": [1, "x", {"b": 2.5}]})
    assert not engine.same({"a": 1}, {"a": True})  # equal in Python, int vs bool in CEL
    assert not engine.same([1], [1.0])
    assert not engine.same({"a": 1}, {"a": 1, "b": 1})
    assert not engine.same([[1, 2]], [[1, 3]])


def test_a_runner_reusing_its_context_gives_what_a_fresh_evaluation_gives() -> None:
    """The runner keeps one CEL context and hands it only the variables that changed since the previous
    trace: over a stream of traces that repeat and differ, every outcome is the fresh evaluation's."""
    routes = [{"name": f"r{index}", "when": when, "actions": ["dataset:d"]} for index, when in enumerate(CONDITIONS)]
    runner = load(load_settings(config={"routes": routes}))
    for variant in [0, 0, 1, 3, 3, 2, 4, 1, 0, 4, 4]:
        spans, annotations = _trace(variant)
        fresh = engine.evaluate(runner.rules, variables.build(spans, annotations), spans[0].trace_id)
        assert runner.outcomes(spans, annotations) == fresh
        assert [outcome.matched for outcome in fresh] == [expected[variant] is True for expected in EXPECTED]
