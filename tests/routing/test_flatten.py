"""Conditions rewritten to read flat CEL variables (`llmtap.routing.flatten`): what is rewritten, and that a
runner evaluating the rewritten conditions on those variables gives exactly the outcomes (errors included)
of the conditions as written on the documented variables."""

from __future__ import annotations

import math
import re
from typing import Any

import cel
import pytest

from llmtap.config import load_settings
from llmtap.routing import engine, flatten, load, predicates, references, variables
from llmtap.routing.variables import AnnotationFacts, SpanFacts


def _rewrite(when: str) -> str:
    rewritten = flatten.rewrite(when, references.analyse(when, cel.compile(when).variables()))
    rewritten = re.sub(r"__spans_(set|list)_[0-9a-f]{12}", r"SPANS_\1", rewritten)
    rewritten = re.sub(r"__trace_(pred|decided)_[0-9a-f]{12}", lambda m: "T" + m.group(1).upper(), rewritten)
    return re.sub(r"__spans_(pred|decided|fallback)_[0-9a-f]{12}", lambda m: m.group(1).upper(), rewritten)


@pytest.mark.parametrize(
    ("when", "rewritten"),
    [
        # a `trace`/`root` field against a literal: one bool computed in Python (with the test over variables
        # handed to CEL only where Python cannot decide: a NaN cost ordered, a sum beyond int64)
        ("trace.error && trace.cost > 0.5", "__trace_error && (TDECIDED ? TPRED : __lazy__trace_cost > 0.5)"),
        ("trace.duration_ms > 1.0 || trace.span_count != -3", "TPRED || TPRED"),
        (
            "(trace.input_tokens + root.output_tokens <= 0x10)",
            "((TDECIDED ? TPRED : __lazy__trace_input_tokens + __lazy__root_output_tokens <= 0x10))",
        ),
        ('trace.root_name.startsWith("a") ? 1 : 2', "TPRED ? 1 : 2"),
        ("trace.duration_ms > 1", "__trace_duration_ms > 1"),  # int with double: left to CEL
        ("trace.cost > 0.5 == x", "__trace_cost > 0.5 == x"),
        ("!trace.error == true || -trace.cost < 1.0", "!__trace_error == true || -__trace_cost < 1.0"),
        ("trace.cost * 2.0 > 1.0 || 1.0 < trace.cost", "__trace_cost * 2.0 > 1.0 || 1.0 < __trace_cost"),
        ('trace["duration_ms"] > 1.0', "__trace_duration_ms > 1.0"),
        ('trace.root_name.size() > 1', "__trace_root_name.size() > 1"),
        ("has(trace.error) && trace.error", "has(trace.error) && __trace_error"),  # `has` needs the map
        ('root.status == "ERROR" && root.attributes.x == 1', 'TPRED && __root_attributes.x == 1'),
        ('root.status + "" == "ERROR"', '__root_status + "" == "ERROR"'),
        ("size(spans) > 2 && spans.size() < 9", "__spans_size > 2 && __spans_size < 9"),
        ("size(annotation_history) > 1", "__annotation_history_size > 1"),
        # spans: a macro with a simple test is computed in Python: one value (decided by Python whenever it
        # reads no attribute and orders no cost; else CEL evaluates the macro as written where it cannot)
        ('spans.exists(s, s.status == "ERROR")', "PRED"),
        ('spans.all(s, s.kind != "" || !(s.name in ["a", "b"]))', "PRED"),
        ('spans.exists(s, s.status == "OK" && s["model"].startsWith("m"))', "PRED"),
        ('spans.filter(s, s.model == "m").size() > 1', "PRED > 1"),
        ('1 < size(spans.filter(s, s.model == "m"))', "1 < PRED"),
        ("spans.exists_one(s, s.duration_ms > 1.5)", "PRED"),
        ("spans.exists(s, has(s.attributes.x))", "(DECIDED ? PRED : FALLBACK.exists(s, has(s.attributes.x)))"),
        (
            'size(spans.filter(s, s.attributes["a.b"] == 1)) > 1',
            '(DECIDED ? PRED : size(FALLBACK.filter(s, s.attributes["a.b"] == 1))) > 1',
        ),
        ("spans.exists_one(s, s.cost > 0.0)", "(DECIDED ? PRED : FALLBACK.exists_one(s, s.cost > 0.0))"),
        # other tests: only the fields read, each span as its one value or a list of values
        ('spans.exists(s, s.status + "" == "ERROR")', 'SPANS_set.exists(s, s + "" == "ERROR")'),
        ("spans.all(s, size(s.kind) > 0)", "SPANS_set.all(s, size(s) > 0)"),
        ('spans.exists(s, s.status + s["model"] == "OKm")', 'SPANS_set.exists(s, s[1] + s[0] == "OKm")'),
        ('spans.exists(s, has(s.model) && s.model + "" == "m")', 'SPANS_set.exists(s, true && s + "" == "m")'),
        (
            "spans.exists(s, has(s.attributes.x) && trace.error)",
            "SPANS_set.exists(s, has(s.attributes.x) && __trace_error)",
        ),
        ('spans.exists(s, s.attributes["a.b"] + 1 == 2)', 'SPANS_set.exists(s, s["a.b"] + 1 == 2)'),
        ("spans.exists(s, s.duration_ms > 2)", "SPANS_set.exists(s, s > 2)"),  # int with double: left to CEL
        (
            "spans.exists(s, [1].exists(s, s == 1) && s.cost > 0.0)",  # `s` bound again: the whole spans
            "spans.exists(s, [1].exists(s, s == 1) && s.cost > 0.0)",
        ),
        ("spans.exists_one(s, s.cost > trace.cost)", "SPANS_list.exists_one(s, s > __trace_cost)"),
        (
            "spans.filter(s, s.model == trace.root_name).size() > 1",
            "SPANS_list.filter(s, s == __trace_root_name).size() > 1",
        ),
        ('spans[0].name == "x"', 'spans[0].name == "x"'),  # any field may be read: the whole list
        ('"trace.error" == x.trace.error // trace.error', '"trace.error" == x.trace.error // trace.error'),
        ("labels.exists(trace, trace == 'x') || trace.error", "labels.exists(trace, trace == 'x') || trace.error"),
        ("[1].exists(__trace_error, __trace_error == 1)", "[1].exists(__trace_error, __trace_error == 1)"),
        ("trace.size() > 3 || trace.nope", "trace.size() > 3 || trace.nope"),
        # label and annotation keys: the value if the trace has the key, else the same failure
        (
            'has(labels.a) && labels.a == "x"',
            '__has__labels__a && (__has__labels__a ? __key__labels__a : __empty.a) == "x"',
        ),
        (
            '"a" in annotations || annotations["b"] > 1',
            '__has__annotations__a || (__has__annotations__b ? __key__annotations__b : __empty["b"]) > 1',
        ),
        ('"a" + "" in labels || labels["a.b"] == 1', '"a" + "" in labels || labels["a.b"] == 1'),
        ('labels.exists(k, k == "a")', 'labels.exists(k, k == "a")'),
    ],
)
def test_what_is_rewritten(when: str, rewritten: str) -> None:
    assert _rewrite(when) == rewritten


def test_conditions_reading_the_same_span_fields_share_one_projection() -> None:
    conditions = ('spans.exists(s, s.model + "" == "a")', 'spans.all(s, s.model + "" != "b")')
    names = [_rewrite(when) for when in conditions]
    full = [
        flatten.rewrite(when, references.analyse(when, cel.compile(when).variables()))
        for when in (*conditions, 'spans.exists(s, s.name + "" == "a")')
    ]
    assert names == ['SPANS_set.exists(s, s + "" == "a")', 'SPANS_set.all(s, s + "" != "b")']
    assert full[0].split(".")[0] == full[1].split(".")[0] != full[2].split(".")[0]


def test_conditions_with_the_same_test_share_one_predicate() -> None:
    full = [
        flatten.rewrite(when, references.analyse(when, cel.compile(when).variables()))
        for when in (
            'spans.exists(s, s.model == "a") && trace.error',
            'spans.exists(t, t.model == "a")',
            'spans.exists(s, s.model == "b")',
            'spans.all(s, s.model == "a")',
        )
    ]
    assert full[0].split(" ")[0] == full[1] != full[2] != full[3] != full[1]


def _span(trace_id: str, index: int, parent: str | None, **fields: Any) -> SpanFacts:
    start = fields.pop("start", index * 1_000_000)
    return SpanFacts(
        trace_id=trace_id,
        span_id=f"{index + 1:016x}",
        parent_span_id=parent,
        name=fields.pop("name", f"span {index}"),
        kind=fields.pop("kind", "INTERNAL"),
        start_ns=start,
        end_ns=start + fields.pop("length", 500_000),
        status=fields.pop("status", "UNSET"),
        attributes=fields.pop("attributes", {}),
    )


def _traces() -> list[tuple[list[SpanFacts], list[AnnotationFacts]]]:
    """Traces that repeat and differ: repeated spans with different span ids, ints and doubles, a cost of
    -0.0 and one of NaN, bools among ints, attributes of several types, one too long, missing labels and
    annotations, no root in the trace."""
    traces = []
    for variant in range(6):
        trace_id = f"{variant + 1:032x}"
        tags: dict[str, Any] = {"llmtap.tag.feature": "checkout" if variant % 2 else "search"}
        if variant % 3:
            tags["llmtap.tag.tier"] = [1, True, 1.0][variant % 3]
        own = {"n": 1, "flag": variant == 5} if variant in (1, 3, 5) else {}
        parent = None if variant != 5 else "f" * 16
        root = _span(trace_id, 0, parent, name="invoke_workflow w", attributes={**tags, **own})
        spans = [root]
        for index in range(1, 2 + variant):
            call = index % 2 == 1
            attributes: dict[str, Any] = {
                **tags,
                "gen_ai.operation.name": "chat" if call else "execute_tool",
                "gen_ai.usage.input_tokens": 10 if call else True,
                "llmtap.usage.cost": [0.0, -0.0, 0.5, 1][(variant + index) % 4],
                "n": [1, 1.0, True, "1"][(variant * index) % 4],
                "flag": [True, False, 1][(variant + index) % 3],
                "long": "x" * 2000 if index == 3 else "x",  # too long for `attributes`: left out
            }
            if index == 1 and variant % 2 == 0:
                attributes["list"] = (1, 2)
            if (variant, index) == (3, 2):
                attributes["llmtap.usage.cost"] = math.nan
            if (variant, index) == (5, 1):  # the sum of the input and output tokens is beyond int64
                attributes["gen_ai.usage.input_tokens"] = attributes["gen_ai.usage.output_tokens"] = 2**62
            if index == 2:
                attributes["error.type"] = "RateLimitError"
            status = "ERROR" if (variant, index) in {(2, 2), (4, 1), (4, 3)} else "UNSET"
            spans.append(
                _span(
                    trace_id,
                    index,
                    root.span_id,
                    kind="CLIENT" if call else "INTERNAL",
                    status=status,
                    length=500_000 * (index % 2),
                    attributes=attributes,
                )
            )
        annotations = []
        if variant % 2 == 0:
            annotations.append(AnnotationFacts("human_feedback", "good", 1))
        if variant % 3 == 0:
            annotations.append(AnnotationFacts("human_feedback", "bad", 2))
            annotations.append(AnnotationFacts("rating", [2, 2.0, False][variant % 3], 3))
        traces.append((spans, annotations))
    return traces


TRICKY = [
    # has() and `in` on maps, missing keys (an error: no match), keys of other types
    "has(labels.tier) && labels.tier == 1",
    "labels.tier == 1",
    'labels["tier"] == 1.0 || "tier" in labels',
    '!("tier" in labels) && has(labels.feature)',
    'annotations.human_feedback == "bad"',
    "has(annotations.rating) && annotations.rating == 2",
    "annotations.rating == false",
    "size(annotation_history) > 1 && size(annotation_history.human_feedback) == 2",
    'annotation_history.human_feedback.exists(v, v == "bad")',
    # macros over whole maps
    'labels.exists(k, k == "tier")',
    'labels.all(k, labels[k] != "checkout")',
    'annotations.exists_one(k, k.startsWith("h"))',
    "size(labels) == 2",
    # ints vs doubles vs bools
    "trace.cost == 0.0 || trace.input_tokens > 10",
    "trace.cost > 0",
    "1.0 / trace.cost > 0.0",
    "trace.duration_ms > 3.0 || trace.model_calls == 2",
    'trace.error == (root.status == "ERROR")',
    # spans: repeats, errors in some elements only, doubles of -0.0, projections
    "spans.exists(s, 1.0 / s.cost < 0.0)",
    "spans.all(s, !has(s.attributes.n) || s.attributes.n == 1)",
    "spans.exists(s, has(s.attributes.n) && s.attributes.n == true)",
    "spans.exists(s, s.attributes.n == true)",
    'spans.exists(s, s.attributes["gen_ai.usage.input_tokens"] > 5)',
    'spans.exists(s, has(s.attributes.n) && s.attributes.n == "1")',
    'spans.exists(s, s.error_type == "RateLimitError" && s.status == "ERROR")',
    "spans.all(s, s.duration_ms > 0.0)",
    "spans.exists(s, s.duration_ms == 0.0 && s.kind == 'INTERNAL')",
    'spans.exists_one(s, s.status == "ERROR")',
    'spans.filter(s, s.operation == "chat").size() == 2',
    "spans.filter(s, true).size() == 3 || spans.exists_one(s, true)",  # no field read: only the count
    "spans.map(s, s.input_tokens).filter(n, n == 10).size() >= 2",
    'size(spans) > 3 && spans[1].operation == "chat"',
    'spans.all(s, spans.exists(t, t.span_id == s.parent_span_id) || s.parent_span_id == "")',
    'spans.exists(s, spans.all(s, s.status != "ERROR") && s.kind == "CLIENT")',
    # spans: macros computed in Python, exactly (span fields) or where the attributes let it decide
    'spans.exists(s, s.status == "ERROR")',
    'spans.exists(s, s.status != "UNSET")',
    'spans.all(s, s.status != "ERROR")',
    'spans.all(s, s.status == "UNSET")',
    'spans.all(s, s.kind == "CLIENT")',
    'spans.exists_one(s, "ERROR" == s.status)',
    'spans.filter(s, s.status != "ERROR").size() == 3',
    'size(spans.filter(s, s.status == "ERROR")) == 1',
    'spans.exists(s, s.operation == "chat" && s.status == "ERROR" && s.kind == "CLIENT")',
    'spans.exists(s, s.name.startsWith("span 3") || s.name.endsWith("4") && !s.name.contains("pan 1"))',
    'spans.exists_one(s, s.kind in ["CLIENT", "SERVER"])',
    'spans.exists(s, s.provider == "" && s.model.startsWith("") && s.error_type == "RateLimitError")',  # read together
    'spans.all(s, s.status in ["UNSET", "OK"] || s.error_type == "RateLimitError")',
    "size(spans.filter(s, s.input_tokens >= 10)) == 2",
    'spans.exists(s, -1 < s.input_tokens && 0x10 > s.output_tokens && s.status != "UNSET")',
    'spans.exists(s, s.duration_ms > 0.4 && s.duration_ms <= 0.5 && s.status == "ERROR")',
    "spans.exists(s, s.cost == 0.0) && spans.all(s, s.cost != 0.5)",
    "spans.exists(s, s.cost > 0.5)",
    "spans.all(s, s.cost >= 0.0 || s.cost < 0.0)",
    "spans.filter(s, s.cost > 0.0).size() > 0",
    "spans.exists(s, s.attributes.n == 1.0)",
    "spans.exists(s, s.attributes.n in [1, 2])",
    'spans.exists(s, s.attributes.n.startsWith("1"))',
    "spans.filter(s, has(s.attributes.n) && s.attributes.n == 1).size() > 1",
    "spans.exists(s, s.attributes.flag)",
    "spans.all(s, !has(s.attributes.flag) || !s.attributes.flag)",
    "spans.exists_one(s, has(s.attributes.flag) && s.attributes.flag == false)",
    'spans.exists(s, s.attributes.long == "x")',
    "spans.exists(s, has(s.attributes.long) && s.status == 'ERROR')",
    "spans.exists(s, s.attributes.list == 1 || s.kind == 'CLIENT')",
    "spans.exists(s, has(s.attributes.list))",
    'spans.all(s, s.attributes["error.type"] == "RateLimitError" || s.attributes.n != "1")',
    # trace and root fields against literals: computed in Python where exact
    "trace.input_tokens + trace.output_tokens > 15",
    "trace.cost >= 0.5 || trace.cost < 0.5",
    "trace.cost == 0.0 || trace.cost != 0.5",
    "root.cost < 1.0 && root.duration_ms <= 0.5",
    'trace.duration_ms <= 3.0 && root.name.endsWith("w") && trace.root_name.contains("flow")',
    "trace.span_count != 4 ? trace.model_calls == 2 : trace.error",
    "root.input_tokens + trace.output_tokens == 0",
    "trace.model_calls >= 2 && trace.input_tokens < 0x7fffffffffffffff",
    # root, its attributes, and a trace without a root span here
    'root.name == "invoke_workflow w" && root.parent_span_id == ""',
    'root.attributes["llmtap.tag.feature"] == "search"',
    'has(root.attributes.missing) || "llmtap.tag.tier" in root.attributes',
    'root.cost == 0.0 && trace.root_name.endsWith("w") && trace.span_count > 3',
    # names bound by macros that shadow variables: left as written
    'labels.exists(trace, trace == "tier") && trace.span_count > 1',
    "[{'error': 1}].exists(trace, trace.error == 2) || trace.error",
]


def test_a_runner_gives_the_outcomes_of_the_conditions_as_written() -> None:
    """Over a stream of traces, the runner's outcomes (evaluating the rewritten conditions on the flat
    variables, reusing what did not change: the variables, and the value of each condition none of whose
    variables changed) are those of the conditions as written on every variable."""
    routes = [
        {"name": f"r{index}", "when": when, "actions": ["dataset:d"], "sample": 0.5 if index % 5 == 4 else 1.0}
        for index, when in enumerate(TRICKY)
    ]
    runner = load(load_settings(config={"routes": routes}))
    assert sum(rule.flat is not rule.program for rule in runner.rules) >= 20  # most are rewritten
    traces = _traces()
    seen = set()
    for variant in [0, 1, 1, 2, 3, 5, 4, 4, 0, 5, 2, 3]:
        spans, annotations = traces[variant]
        expected = engine.evaluate(runner.rules, variables.build(spans, annotations), spans[0].trace_id)
        assert runner.outcomes(spans, annotations) == expected
        runner.forget()
        assert runner.outcomes(spans, annotations) == expected
        seen.update((outcome.rule.name, outcome.matched, outcome.error is not None) for outcome in expected)
    kept = load(load_settings(config={"routes": routes}))  # never forgets: each trace evaluated on the last
    for variant in [3, 3, 0, 2, 2, 5, 1, 4, 0, 0, 5, 3, 1, 2, 4, 4, 1, 5, 0, 3]:
        spans, annotations = traces[variant]
        expected = engine.evaluate(kept.rules, variables.build(spans, annotations), spans[0].trace_id)
        assert kept.outcomes(spans, annotations) == expected
    mixed = [name for name in {name for name, _, _ in seen} if len({(m, e) for n, m, e in seen if n == name}) > 1]
    assert len(mixed) >= 60  # most conditions hold on some traces, not on others, or are errors on some
    # Macros computed in Python: decided on some traces, left to CEL on others
    decided = [
        {value for name, value in runner.variables(*trace).items() if name.startswith("__spans_decided_")}
        for trace in traces
    ]
    assert set().union(*decided) == {True, False}
    assert sum(".exists" not in str(rule.flat.source) for rule in runner.rules if "spans.exists" in rule.when) > 10
    assert {(matched, error) for _, matched, error in seen} == {(True, False), (False, False), (False, True)}


def test_repeated_spans_are_kept_once_in_order() -> None:
    projection = flatten.Projection(("status", "cost"), False, None, True)
    spans, _ = _traces()[4]
    value, key, _ = projection(variables.TraceView(spans))
    assert value == [  # the root, spans 1 to 5 (the 5th repeats the root's values), 0.0 and -0.0 apart
        {"status": "UNSET", "cost": 0.0},
        {"status": "ERROR", "cost": -0.0},
        {"status": "UNSET", "cost": 0.5},
        {"status": "ERROR", "cost": 1.0},
        {"status": "UNSET", "cost": -0.0},
    ]
    assert [str(span["cost"]) for span in value] == ["0.0", "-0.0", "0.5", "1.0", "-0.0"]
    assert len(key) == 5


def test_the_types_predicates_assume_are_those_of_the_variables() -> None:
    spans, annotations = _traces()[3]
    built = variables.build(spans, annotations)
    assert predicates.TRACE_ORDER == variables.TRACE_ORDER
    assert {name: type(value) for name, value in built["trace"].items()} == predicates.TRACE_TYPES
    assert {name: type(value) for name, value in built["root"].items() if name != "attributes"} == (
        predicates.FIELD_TYPES
    )
    view = variables.TraceView(spans, annotations)
    assert {(name, type(value)) for name in predicates.FIELD_TYPES for value in view.column(name)} == set(
        predicates.FIELD_TYPES.items()
    )


def test_string_fields_read_together_are_those_read_one_by_one() -> None:
    spans, _ = _traces()[4]
    spans = [*spans, _span(spans[0].trace_id, 9, None, attributes={"gen_ai.request.model": 4, "error.type": True})]
    for name in variables.ATTRIBUTE_STRINGS:
        together = variables.TraceView(spans, together=True).column(name)
        alone = variables.TraceView(spans).column(name)
        assert together == alone and [type(value) for value in together] == [str] * len(spans)
    assert variables.TraceView(spans, together=True).column("model")[-1] == "4"
