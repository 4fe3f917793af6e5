"""`llmtap show TRACE_ID`: one stored trace in full — the span tree, its annotations, then the conversation
(chat turns, tool calls with arguments and results, retrieved documents with scores)."""

from __future__ import annotations

import json
from functools import cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import click

from llmtap.cli.common import (
    console,
    duration,
    json_option,
    labels_text,
    opened_store,
    print_json,
    short_time,
    store_option,
)

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console, RenderableType
    from rich.text import Text
    from rich.tree import Tree

    from llmtap.cli.turns import Turns
    from llmtap.store import StoredSpan, TraceDetail

_DOCUMENTS = "gen_ai.retrieval.documents"
_QUERY = "gen_ai.retrieval.query.text"
_ROLE_STYLES = {"system": "magenta", "user": "green", "assistant": "cyan", "tool": "yellow"}


@cache
def _genai() -> SimpleNamespace:
    """The GenAI semconv names this view reads (from the semconv module's source: importing it costs ~7 ms)."""
    from llmtap.semconv_names import GEN_AI, constants

    return constants(
        GEN_AI,
        "GEN_AI_INPUT_MESSAGES",
        "GEN_AI_OPERATION_NAME",
        "GEN_AI_OUTPUT_MESSAGES",
        "GEN_AI_REQUEST_MODEL",
        "GEN_AI_RESPONSE_MODEL",
        "GEN_AI_SYSTEM_INSTRUCTIONS",
        "GEN_AI_TOOL_CALL_ARGUMENTS",
        "GEN_AI_TOOL_CALL_RESULT",
        "GEN_AI_USAGE_INPUT_TOKENS",
        "GEN_AI_USAGE_OUTPUT_TOKENS",
    )


def _labels(span: StoredSpan) -> dict[str, Any]:
    from llmtap.labels.spans import ATTRIBUTE_PREFIX

    prefix = len(ATTRIBUTE_PREFIX)
    return {key[prefix:]: value for key, value in span.attributes.items() if key.startswith(ATTRIBUTE_PREFIX)}


def _json(span: StoredSpan, name: str) -> Any:
    raw = span.attributes.get(name)
    if raw is None:
        return None
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return raw


def _node(span: StoredSpan, parent_labels: dict[str, Any]) -> Text:
    from rich.text import Text

    genai = _genai()

    attributes = span.attributes
    text = Text()
    text.append(span.name, style="bold red" if span.status_code == "ERROR" else "bold")
    text.append(f"  {duration(span.duration_ms)}", style="dim")
    model = attributes.get(genai.GEN_AI_RESPONSE_MODEL)
    if model and model != attributes.get(genai.GEN_AI_REQUEST_MODEL):
        text.append(f"  → {model}", style="blue")
    tokens_in = attributes.get(genai.GEN_AI_USAGE_INPUT_TOKENS)
    tokens_out = attributes.get(genai.GEN_AI_USAGE_OUTPUT_TOKENS)
    if tokens_in is not None or tokens_out is not None:
        text.append(
            f"  tokens {tokens_in if tokens_in is not None else '?'}/{tokens_out if tokens_out is not None else '?'}"
        )
    if span.status_code == "ERROR":
        reason = attributes.get("error.type") or span.status_description or "error"
        text.append(f"  ✗ {reason}", style="red")
    own = {key: value for key, value in _labels(span).items() if parent_labels.get(key) != value}
    if own:
        text.append(f"  {labels_text(own)}", style="dim")
    return text


def _tree(detail: TraceDetail) -> Tree:
    from rich.tree import Tree

    spans = detail.spans
    ids = {span.span_id for span in spans}
    children: dict[str | None, list[StoredSpan]] = {}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children.setdefault(parent, []).append(span)
    summary = detail.summary
    root = Tree(
        f"[bold]trace {summary.trace_id}[/bold]  {short_time(summary.as_dict()['start_time'])} UTC  "
        f"{duration(summary.duration_ms)}  tokens {summary.input_tokens}/{summary.output_tokens}"
        + ("  [bold red]error[/bold red]" if summary.error else "")
    )

    def add(branch: Tree, parent: str | None, inherited: dict[str, Any]) -> None:
        for span in sorted(children.get(parent, []), key=lambda item: item.start_time_ns):
            node = branch.add(_node(span, inherited))
            add(node, span.span_id, {**inherited, **_labels(span)})

    add(root, None, {})
    return root


def _annotations(detail: TraceDetail) -> RenderableType:
    if not detail.annotations:
        return "[dim]no annotations[/dim]"
    from rich.table import Table

    names = {span.span_id: span.name for span in detail.spans}
    table = Table(title="annotations", title_justify="left", header_style="bold", box=None, pad_edge=False)
    for column in ("name", "value", "by", "on", "explanation"):
        table.add_column(column)
    for annotation in detail.annotations:
        by = " ".join(part for part in (annotation.annotator_kind, annotation.annotator) if part)
        target = names.get(annotation.span_id or "", "the trace")
        table.add_row(annotation.name, str(annotation.value), by, target, annotation.explanation or "")
    return table


def _parts(message: dict[str, Any]) -> list[str]:
    lines = []
    for part in message.get("parts", ()):
        kind = part.get("type")
        if kind == "text":
            lines.append(str(part.get("content", "")))
        elif kind == "tool_call":
            arguments = part.get("arguments")
            arguments = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
            lines.append(f"→ tool call {part.get('name')}({arguments})  [{part.get('id')}]")
        elif kind == "tool_call_response":
            response = part.get("response")
            response = response if isinstance(response, str) else json.dumps(response, ensure_ascii=False)
            lines.append(f"← tool result [{part.get('id')}] {response}")
        elif kind == "reasoning":
            lines.append(f"(reasoning) {part.get('content', '')}")
        else:
            lines.append(f"({kind})")
    return lines


def _turn(table: Turns, role: str, lines: list[str], note: str = "") -> None:
    from rich.text import Text

    text = Text("\n".join(lines))
    if note:
        text.append(f"  ({note})", style="dim")
    table.add_row(Text(role, style=f"bold {_ROLE_STYLES.get(role, 'white')}"), text)


def _turns() -> Turns:
    from llmtap.cli.turns import Turns

    return Turns()


def _conversation(detail: TraceDetail) -> list[RenderableType]:
    """Each model call's messages as chat turns, tool steps and retrievals, in the order they started."""
    from llmtap.labels.spans import is_llm_span

    genai = _genai()

    shown: list[RenderableType] = []
    for span in sorted(detail.spans, key=lambda item: item.start_time_ns):
        attributes = span.attributes
        if _DOCUMENTS in attributes or attributes.get(genai.GEN_AI_OPERATION_NAME) == "retrieval":
            documents = _json(span, _DOCUMENTS) or []
            shown.append(f"[bold]{span.name}[/bold]")
            turns = _turns()
            if attributes.get(_QUERY):
                _turn(turns, "query", [str(attributes[_QUERY])])
            for document in documents:
                score = document.get("score")
                head = f"{document.get('id')}" + (f"  score {score}" if score is not None else "")
                _turn(turns, "document", [head, *([document["content"]] if document.get("content") else [])])
            shown.append(turns)
        elif attributes.get(genai.GEN_AI_OPERATION_NAME) == "execute_tool":
            shown.append(f"[bold]{span.name}[/bold]")
            turns = _turns()
            if genai.GEN_AI_TOOL_CALL_ARGUMENTS in attributes:
                _turn(turns, "arguments", [str(attributes[genai.GEN_AI_TOOL_CALL_ARGUMENTS])])
            if genai.GEN_AI_TOOL_CALL_RESULT in attributes:
                _turn(turns, "result", [str(attributes[genai.GEN_AI_TOOL_CALL_RESULT])])
            shown.append(turns)
        elif is_llm_span(attributes) and (genai.GEN_AI_INPUT_MESSAGES in attributes or span.status_code == "ERROR"):
            if any(child.parent_span_id == span.span_id and is_llm_span(child.attributes) for child in detail.spans):
                continue  # a framework's span around an SDK call: the SDK's span below shows the same turn
            shown.append(f"[bold]{span.name}[/bold]")
            turns = _turns()
            for part in _json(span, genai.GEN_AI_SYSTEM_INSTRUCTIONS) or []:
                _turn(turns, "system", [str(part.get("content", ""))])
            for message in _json(span, genai.GEN_AI_INPUT_MESSAGES) or []:
                _turn(turns, str(message.get("role")), _parts(message))
            for message in _json(span, genai.GEN_AI_OUTPUT_MESSAGES) or []:
                _turn(turns, str(message.get("role", "assistant")), _parts(message), message.get("finish_reason") or "")
            if span.status_code == "ERROR":
                _turn(turns, "error", [str(attributes.get("error.type") or span.status_description)])
            shown.append(turns)
    return shown or ["[dim]no conversation captured (content capture was off, or no model call)[/dim]"]


def render_trace(out: Console, detail: TraceDetail) -> None:
    """The span tree, the annotations, then the conversation, printed in one go (each print costs rich ~0.3 ms, and
    a trace's conversation is a dozen)."""
    from rich.console import Group, NewLine
    from rich.rule import Rule

    tree, annotations, rule = _tree(detail), _annotations(detail), Rule("conversation", align="left")
    out.print(Group(tree, NewLine(), annotations, NewLine(), rule, *_conversation(detail)))


@click.command()
@click.argument("trace_id")
@store_option
@json_option
def show(trace_id: str, store_file: Path | None, as_json: bool) -> None:
    """One trace in full: span tree, annotations, conversation. A unique prefix of TRACE_ID is enough."""
    with opened_store(store_file) as store:
        detail = store.get_trace(trace_id)
    if as_json:
        print_json(detail.as_dict())
        return
    render_trace(console(), detail)
