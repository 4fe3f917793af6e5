"""Rules from config: what parses, and the exact error for each kind of mistake."""

from __future__ import annotations

from typing import Any

import pytest

from llmtap.config import load_settings
from llmtap.errors import ConfigError
from llmtap.routing import Action, load

WHERE = "instrument(config=...): routes[0] 'r'"


def _load(rule: dict[str, Any], **tables: Any) -> Any:
    return load(load_settings(config={"routes": [{"name": "r", "actions": ["queue:review"], **rule}], **tables}))


def test_a_rule_parses_with_its_actions_sample_and_flags() -> None:
    runner = _load(
        {
            "when": 'labels.feature == "checkout" && trace.duration_ms > 5000.0',
            "sample": 0.25,
            "actions": ["queue:review", "dataset:slow", "tag:triage=needed", "exporter:vendor"],
            "enabled": False,
            "description": "slow checkouts",
        },
        exporters={"vendor": {"type": "console"}},
    )
    (rule,) = runner.rules
    assert (rule.name, rule.sample, rule.enabled, rule.description) == ("r", 0.25, False, "slow checkouts")
    assert rule.actions == (
        Action("queue", "review"),
        Action("dataset", "slow"),
        Action("tag", "triage", "needed"),
        Action("exporter", "vendor"),
    )
    assert [str(action) for action in rule.actions] == [
        "queue:review",
        "dataset:slow",
        "tag:triage=needed",
        "exporter:vendor",
    ]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"when": "trace.error &&& labels.x"},
            f"{WHERE}.when: Syntax error: token recognition error at: '& ' at 1:15\n"
            "  | trace.error &&& labels.x\n"
            "  |               ^",
        ),
        (
            {"when": "trace.error ||\n  trace.duraton_ms > 5.0"},
            f"{WHERE}.when: trace has no field 'duraton_ms' at 2:9; expected one of cost, duration_ms, error, "
            "input_tokens, model_calls, output_tokens, root_name, span_count, trace_id\n"
            "  |   trace.duraton_ms > 5.0\n"
            "  |         ^",
        ),
        (
            {"when": 'user.id == "u1"'},
            f"{WHERE}.when: unknown variable 'user' at 1:1; expected one of annotation_history, annotations, "
            "labels, root, spans, trace\n"
            '  | user.id == "u1"\n'
            "  | ^",
        ),
        (
            {"when": "root.modle == 'x'"},
            f"{WHERE}.when: root has no field 'modle' at 1:6; expected one of attributes, cost, duration_ms, "
            "error_type, input_tokens, kind, model, name, operation, output_tokens, parent_span_id, provider, "
            "span_id, status\n"
            "  | root.modle == 'x'\n"
            "  |      ^",
        ),
        (
            {"when": "trace.span_count"},
            f"{WHERE}.when: 'trace.span_count' gives int 1; expected a condition (bool)",
        ),
        ({"when": ""}, f"{WHERE}.when='': expected a CEL condition such as 'trace.error'"),
        ({"when": "trace.error", "sample": 1.5}, f"{WHERE}.sample=1.5: expected a number from 0 to 1"),
        (
            {"when": "trace.error", "actions": ["send:review"]},
            f"{WHERE}.actions[0]='send:review': expected queue:<name>, exporter:<name>, dataset:<name> or "
            "tag:<key>=<value>",
        ),
        (
            {"when": "trace.error", "actions": ["tag:triage"]},
            f"{WHERE}.actions[0]='tag:triage': expected tag:<key>=<value>",
        ),
        (
            {"when": "trace.error", "actions": []},
            f"{WHERE}.actions=[]: expected a non-empty list such as ['queue:review']",
        ),
        (
            {"when": "trace.error", "colour": "red"},
            f"{WHERE}: unknown field 'colour'; expected one of actions, description, enabled, name, sample, when",
        ),
        (
            {"when": "trace.error", "actions": ["exporter:vendor"]},
            "instrument(config=...): routes 'r'.actions: exporter:vendor: no exporter 'vendor' under [exporters]; "
            "expected one of: none are declared",
        ),
    ],
)
def test_mistakes_name_the_rule_the_field_and_the_position(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(rule)
    assert str(raised.value) == message


def test_a_type_error_is_found_before_any_trace_arrives() -> None:
    with pytest.raises(ConfigError) as raised:
        _load({"when": 'trace.duration_ms > "5000"'})
    assert str(raised.value).startswith(
        f"{WHERE}.when: type error in 'trace.duration_ms > \"5000\"': No such overload"
    )


def test_rule_names_are_unique() -> None:
    routes = [{"name": "r", "when": "trace.error", "actions": ["queue:a"]}] * 2
    with pytest.raises(ConfigError) as raised:
        load(load_settings(config={"routes": routes}))
    assert str(raised.value) == (
        "instrument(config=...): routes[1] 'r': a second rule with this name; rule names must be unique"
    )


def test_exporter_tables_are_checked() -> None:
    with pytest.raises(ConfigError) as raised:
        _load({"when": "trace.error"}, exporters={"vendor": {"type": "otlp", "endpoint": "collector:4318"}})
    assert str(raised.value) == (
        "instrument(config=...): exporters.vendor.endpoint='collector:4318': expected an http:// or https:// URL"
    )
