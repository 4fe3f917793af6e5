"""Every schema type with valid and invalid values; malformed schema tables; undeclared names."""

from __future__ import annotations

from typing import Any

import pytest

import llmtap
from llmtap.annotations.schema import parse_schemas
from llmtap.errors import ConfigError
from tests.annotations.conftest import Setup


@pytest.mark.parametrize(
    ("name", "given", "value", "score", "label"),
    [
        ("human_feedback", "good", "good", 1.0, "good"),
        ("human_feedback", "bad", "bad", 0.0, "bad"),
        ("topic", "billing", "billing", None, "billing"),
        ("quality", 4, 4, 4.0, None),
        ("quality", "5", 5, 5.0, None),
        ("quality", 3.0, 3, 3.0, None),
        ("relevance", 0.25, 0.25, 0.25, None),
        ("relevance", "1", 1.0, 1.0, None),
        ("resolved", True, True, 1.0, "true"),
        ("resolved", "no", False, 0.0, "false"),
        ("resolved", 1, True, 1.0, "true"),
        ("correction", "Paris, not Lyon.", "Paris, not Lyon.", None, None),
    ],
)
def test_valid_values(annotating: Setup, name: str, given: Any, value: Any, score: Any, label: Any) -> None:
    annotating()
    target: Any = {"session_id": "s-1"} if name == "resolved" else "0af7651916cd43dd8448eb211c80319c"
    kind = "llm" if name == "relevance" else "human"
    annotation = llmtap.annotate(target, name, given, explanation="because", annotator_kind=kind)
    assert (annotation.value, annotation.score, annotation.label) == (value, score, label)
    assert type(annotation.value) is type(value)


@pytest.mark.parametrize(
    ("name", "given", "message"),
    [
        (
            "human_feedback",
            "great",
            "annotation 'human_feedback': value='great': expected one of good, bad (schema version 2)",
        ),
        ("human_feedback", 1, "annotation 'human_feedback': value=1: expected one of good, bad (schema version 2)"),
        ("topic", "", "annotation 'topic': value='': expected one of billing, tech (schema version 1)"),
        ("quality", 6, "annotation 'quality': value=6: expected a whole number from 1 to 5 (schema version 1)"),
        ("quality", 0, "annotation 'quality': value=0: expected a whole number from 1 to 5 (schema version 1)"),
        ("quality", 2.5, "annotation 'quality': value=2.5: expected a whole number from 1 to 5 (schema version 1)"),
        ("quality", True, "annotation 'quality': value=True: expected a whole number from 1 to 5 (schema version 1)"),
        (
            "quality",
            "four",
            "annotation 'quality': value='four': expected a whole number from 1 to 5 (schema version 1)",
        ),
        (
            "relevance",
            float("nan"),
            "annotation 'relevance': value=nan: expected a number from 0 to 1 (schema version 1)",
        ),
        ("relevance", 1.5, "annotation 'relevance': value=1.5: expected a number from 0 to 1 (schema version 1)"),
        (
            "resolved",
            "maybe",
            "annotation 'resolved': value='maybe': expected a boolean (true/false, 1/0, yes/no, "
            "on/off) (schema version 1)",
        ),
        (
            "resolved",
            2,
            "annotation 'resolved': value=2: expected a boolean (true/false, 1/0, yes/no, on/off) (schema version 1)",
        ),
        ("correction", "  ", "annotation 'correction': value='  ': expected a non-empty text (schema version 1)"),
        ("correction", 42, "annotation 'correction': value=42: expected a non-empty text (schema version 1)"),
    ],
)
def test_invalid_values(annotating: Setup, name: str, given: Any, message: str) -> None:
    state = annotating()
    target: Any = {"session_id": "s-1"} if name == "resolved" else "0af7651916cd43dd8448eb211c80319c"
    kind = "llm" if name == "relevance" else "human"
    with pytest.raises(llmtap.AnnotationError) as raised:
        llmtap.annotate(target, name, given, explanation="because", annotator_kind=kind)
    assert str(raised.value) == message
    assert state.records() == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            {"name": "quality", "value": 3},
            "annotation 'quality': explanation=None: the schema requires an explanation (schema version 1)",
        ),
        (
            {"name": "quality", "value": 3, "explanation": 7},
            "annotation 'quality': explanation=7: expected a string or None",
        ),
        (
            {"name": "relevance", "value": 0.5},
            "annotation 'relevance': annotator_kind='human': the schema allows llm, code",
        ),
        (
            {"name": "topic", "value": "tech", "annotator_kind": "robot"},
            "annotation 'topic': annotator_kind='robot': expected one of human, end_user, llm, code",
        ),
        (
            {"name": "nps", "value": 9},
            "annotation 'nps': not declared in [tool.llmtap.annotations]; expected one of: correction, "
            "human_feedback, quality, reason_code, relevance, resolved, topic (or LLMTAP_ANNOTATIONS_MODE=open "
            "to accept undeclared annotations)",
        ),
        ({"name": "", "value": 9}, "annotation name='': expected a non-empty string"),
        (
            {"name": "topic", "value": "tech", "annotator": 5},
            "annotation 'topic': annotator=5: expected a string (who) or None",
        ),
        (
            {"name": "topic", "value": "tech", "metadata": {"ticket": object}},
            "annotation 'topic': metadata={'ticket': <class 'object'>}: expected JSON values (strings, numbers, "
            "booleans, lists, mappings)",
        ),
        (
            {"name": "topic", "value": "tech", "metadata": ["x"]},
            "annotation 'topic': metadata=['x']: expected a mapping with string keys",
        ),
    ],
)
def test_invalid_fields(annotating: Setup, call: dict[str, Any], message: str) -> None:
    annotating()
    with pytest.raises(llmtap.AnnotationError) as raised:
        llmtap.annotate("0af7651916cd43dd8448eb211c80319c", **call)
    assert str(raised.value) == message


def test_target_kind_must_be_allowed(annotating: Setup) -> None:
    annotating()
    with pytest.raises(llmtap.AnnotationError) as raised:
        llmtap.annotate({"session_id": "s-1"}, "topic", "tech")
    assert str(raised.value) == "annotation 'topic': target kind 'session': the schema allows span, trace"
    with pytest.raises(llmtap.AnnotationError) as raised:
        llmtap.annotate("0af7651916cd43dd8448eb211c80319c", "resolved", True)
    assert str(raised.value) == "annotation 'resolved': target kind 'trace': the schema allows session"


def test_open_mode_accepts_undeclared_names(annotating: Setup) -> None:
    state = annotating(mode="open")
    annotation = llmtap.annotate("0af7651916cd43dd8448eb211c80319c", "nps", 9, annotator_kind="end_user")
    assert (annotation.value, annotation.score, annotation.label, annotation.schema_version) == (9, 9.0, None, None)
    attributes = dict(state.only_record().log_record.attributes)
    assert "llmtap.annotation.schema_version" not in attributes
    with pytest.raises(llmtap.AnnotationError) as raised:
        llmtap.annotate("0af7651916cd43dd8448eb211c80319c", "nps", [9])
    assert str(raised.value) == "annotation 'nps': value=[9]: expected a string, a finite number or a boolean"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"q": {"type": "stars"}}, "f: annotations.q.type='stars': expected one of categorical, score, boolean, text"),
        ({"q": {}}, "f: annotations.q.type=None: expected one of categorical, score, boolean, text"),
        ({"q": "score"}, "f: annotations.q='score': expected a table with type, values, version, description, ..."),
        (["q"], "f: annotations=['q']: expected a table of [annotations.<name>] tables"),
        (
            {"q": {"type": "categorical"}},
            "f: annotations.q.values=None: expected a non-empty list of labels or a table of label = score, "
            "e.g. { good = 1.0, bad = 0.0 }",
        ),
        (
            {"q": {"type": "categorical", "values": ["a", "a"]}},
            "f: annotations.q.values=['a', 'a']: a label is listed twice",
        ),
        (
            {"q": {"type": "categorical", "values": {"good": "high"}}},
            "f: annotations.q.values.good='high': expected a finite number",
        ),
        (
            {"q": {"type": "score", "values": [1, 2]}},
            "f: annotations.q.values: not a field of a score annotation; expected one of annotators, description, "
            "explanation, integer, max, min, safe, targets, type, version",
        ),
        ({"q": {"type": "score", "min": 5, "max": 1}}, "f: annotations.q: min=5 is above max=1; expected min <= max"),
        ({"q": {"type": "score", "max": "10"}}, "f: annotations.q.max='10': expected a finite number"),
        ({"q": {"type": "score", "integer": "yes"}}, "f: annotations.q.integer='yes': expected true or false"),
        ({"q": {"type": "boolean", "version": 0}}, "f: annotations.q.version=0: expected a whole number >= 1"),
        ({"q": {"type": "boolean", "version": "2"}}, "f: annotations.q.version='2': expected a whole number >= 1"),
        ({"q": {"type": "text", "description": 3}}, "f: annotations.q.description=3: expected a string"),
        (
            {"q": {"type": "text", "explanation": "always"}},
            "f: annotations.q.explanation='always': expected optional or required",
        ),
        (
            {"q": {"type": "text", "targets": ["span", "message"]}},
            "f: annotations.q.targets=['span', 'message']: 'message' is not one of span, trace, session",
        ),
        (
            {"q": {"type": "text", "targets": []}},
            "f: annotations.q.targets=[]: expected a non-empty list of span, trace, session",
        ),
        (
            {"q": {"type": "text", "annotators": ["admin"]}},
            "f: annotations.q.annotators=['admin']: 'admin' is not one of human, end_user, llm, code",
        ),
        ({"q": {"type": "text", "safe": "yes"}}, "f: annotations.q.safe='yes': expected true or false"),
    ],
)
def test_malformed_schema_tables(table: Any, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_schemas(table, "f")
    assert str(raised.value) == message


def test_a_malformed_schema_is_a_config_error_at_instrument(annotating: Setup) -> None:
    with pytest.raises(ConfigError) as raised:
        annotating(schema={"q": {"type": "stars"}})
    assert str(raised.value) == (
        "instrument(config=...): annotations.q.type='stars': expected one of categorical, score, boolean, text"
    )


def test_schema_parsed_with_defaults() -> None:
    schemas = parse_schemas({"h": {"type": "categorical", "values": {"good": 1, "bad": 0}}}, "f")
    schema = schemas["h"]
    assert (schema.version, schema.explanation, schema.targets, schema.annotators, schema.safe) == (
        1,
        "optional",
        ("span", "trace", "session"),
        ("human", "end_user", "llm", "code"),
        False,
    )
    assert schema.scores == {"good": 1.0, "bad": 0.0}
