"""`llmtap annotate TARGET NAME VALUE`: a judgement on a stored trace or span, by hand (a thin shell over
`llmtap.annotate()`: the same schema check, the same `gen_ai.evaluation.result` record, written to the store)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import click

from llmtap.cli.common import json_option, opened_store, print_json, store_option
from llmtap.errors import LlmtapError

TARGET_HELP = (
    "TARGET: a trace id (a unique prefix is enough), TRACE_ID/SPAN_ID for one span, session:ID for a session, "
    "or LABEL=VALUE for the span whose label has that value (a join key, e.g. message_id=m-123)."
)


def _target(store: Any, text: str) -> Any:
    """What `llmtap.annotate()` takes, from the command line's TARGET."""
    from llmtap.refs import SpanRef

    if text.startswith("session:") and len(text) > len("session:"):
        return {"session_id": text[len("session:") :]}
    if "=" in text:
        label, _, value = text.partition("=")
        if not label.strip() or not value.strip():
            raise click.BadParameter(f"{text!r}: expected LABEL=VALUE", param_hint="TARGET")
        return {"join": {"label": label.strip(), "value": value.strip()}}
    trace_part, slash, span_id = text.partition("/")
    trace_id = store.get_trace(trace_part).trace_id  # a unique prefix is enough; unknown ids are named
    if not slash:
        return trace_id
    span_id = span_id.strip().lower()
    if span_id not in {span.span_id for span in store.get_trace(trace_id).spans}:
        raise click.BadParameter(f"{text!r}: trace {trace_id} has no span {span_id!r}", param_hint="TARGET")
    return SpanRef(trace_id, span_id)


def _value(text: str) -> Any:
    """A number when VALUE is one (`4`, `0.5`), else the text; the schema normalises the rest."""
    try:
        number = json.loads(text)
    except ValueError:
        return text
    return number if isinstance(number, int | float) and not isinstance(number, bool) else text


def _route_again(path: Path, trace_id: str) -> None:
    """The routing rules run again on a trace whose annotation only the store linked to it (a join key): this
    process's routing saw no trace id (an annotation with one is re-routed by `llmtap.annotate()` itself)."""
    from llmtap.config import load_settings

    try:
        settings = load_settings()
        if not settings.tables.get("routes"):
            return
        from llmtap import routing
        from llmtap.routing.runner import annotation_facts, facts_of_stored

        with opened_store(path) as store:
            detail = store.get_trace(trace_id)
            routing.load(settings, store).run(
                [facts_of_stored(span) for span in detail.spans], annotation_facts(detail.annotations)
            )
    except LlmtapError as exc:
        raise click.ClickException(f"annotated, but the routing rules could not run: {exc}") from None


@click.command(epilog=TARGET_HELP)
@click.argument("target")
@click.argument("name")
@click.argument("value")
@click.option("--explanation", help="Why (some schemas require one).")
@click.option("--annotator", help="Who annotates (default: your user name).")
@click.option(
    "--kind",
    "annotator_kind",
    type=click.Choice(["human", "end_user", "llm", "code"]),
    default="human",
    show_default=True,
    help="What kind of annotator.",
)
@store_option
@json_option
def annotate(
    target: str,
    name: str,
    value: str,
    explanation: str | None,
    annotator: str | None,
    annotator_kind: str,
    store_file: Path | None,
    as_json: bool,
) -> None:
    """Annotate a stored trace, span or session: NAME is checked against its schema ([tool.llmtap.annotations])
    exactly as llmtap.annotate() checks it, and the annotation is written to the store."""
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

    import llmtap
    from llmtap.store.log_exporter import StoreLogExporter

    with opened_store(store_file) as store:
        resolved = _target(store, target)
        path = store.path
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(StoreLogExporter(path)))
    try:
        llmtap.instrument(providers=[], logger_provider=logger_provider)  # no SDK patched: annotations only
        annotation = llmtap.annotate(
            resolved,
            name,
            _value(value),
            explanation=explanation,
            annotator=annotator or getpass.getuser(),
            annotator_kind=annotator_kind,
        )
    except LlmtapError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        logger_provider.force_flush()
        llmtap.uninstrument()
        logger_provider.shutdown()
    with opened_store(Path(path)) as store:
        stored = next((item for item in store.annotations() if item.annotation_id == annotation.id), None)
        pending = stored is None and any(item.annotation_id == annotation.id for item in store.pending_annotations())
    if stored is None and not pending:
        raise click.ClickException(f"the annotation {annotation.id} could not be written to {path}")
    if stored is not None and stored.trace_id and getattr(annotation.target, "trace_id", None) is None:
        _route_again(Path(path), stored.trace_id)
    if as_json:
        print_json(stored.as_dict() if stored is not None else annotation.as_dict())
    elif stored is not None:
        where = stored.trace_id or target
        click.echo(f"annotated {where}: {name} = {stored.value!r} (id {annotation.id}) in {path}")
    else:
        click.echo(f"kept pending (no stored span matches {target} yet): {name} = {annotation.value!r}")
