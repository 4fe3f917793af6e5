"""Propagated labels in W3C baggage: outgoing (set by `llmtap.tags()`) and incoming (from upstream).

Only the keys the schema marks `propagate = true` take part. The application's propagator
(`OTEL_PROPAGATORS`, W3C `baggage` by default) puts the baggage on outgoing requests and extracts it
from incoming ones, as for any OpenTelemetry baggage.

Incoming baggage wins over local labels for those keys. "Incoming" means not set by llmtap: next to
the baggage entries it sets, llmtap keeps a marker in the same OTel context (key -> the value it set),
so an entry an outer `llmtap.tags()` block of this process put there is a local label (an inner block
may replace it), while an entry that arrived with the request, or whose value was replaced since, is
upstream's: it is kept as it is, sent on downstream, and stamped on the spans.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.context import Context

from llmtap.labels.policy import LabelPolicy
from llmtap.labels.schema import LabelValue

# The baggage entries llmtap itself set in this context: {key: the string value it set}.
_OWN = otel_context.create_key("llmtap-labels-baggage")


def _own(context: Context | None) -> Mapping[str, str]:
    own = otel_context.get_value(_OWN, context)
    return own if isinstance(own, dict) else {}


def _upstream(entries: Mapping[str, object], own: Mapping[str, str], key: str) -> bool:
    """Whether the baggage entry for `key` came from upstream (is there, and is not the value llmtap set)."""
    return key in entries and own.get(key) != entries[key]


def _text(value: LabelValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def outgoing_context(labels: Mapping[str, LabelValue], propagated: frozenset[str]) -> Context | None:
    """The current context with the propagated `labels` put into its baggage (and marked as llmtap's),
    except the keys the incoming baggage already carries; None when there is nothing to set."""
    keys = [key for key in labels if key in propagated]
    if not keys:
        return None
    ctx = current = otel_context.get_current()
    entries = baggage.get_all(ctx)
    own = _own(ctx)
    marked = dict(own)
    for key in keys:
        if _upstream(entries, own, key):
            continue
        text = _text(labels[key])
        if entries.get(key) != text:
            ctx = baggage.set_baggage(key, text, ctx)
        marked[key] = text
    if ctx is current and marked == own:
        return None  # every entry is already there, set by an outer block
    return otel_context.set_value(_OWN, marked, ctx)


def incoming_labels(policy: LabelPolicy, context: Context | None) -> dict[str, LabelValue]:
    """Propagated labels that arrived in the baggage of `context` (the current one if None), normalised;
    entries llmtap set itself (see the module doc) are local labels, not incoming ones.

    A bad value never raises here (it arrived from elsewhere): in strict mode it is dropped and counted.
    """
    propagated = policy.propagated
    if not propagated:
        return {}
    entries = baggage.get_all(context)
    if not entries:
        return {}
    own = _own(context)
    found = {key: entries[key] for key in propagated if _upstream(entries, own, key)}
    return policy.check(found, raising=False) if found else {}
