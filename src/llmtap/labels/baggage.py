"""Incoming W3C baggage as labels: only the keys the schema marks `propagate = true`.

Outgoing baggage is set by `llmtap.tags()` (see `context.push`); the application's propagator
(`OTEL_PROPAGATORS`, W3C `baggage` by default) puts it on outgoing requests and extracts it from
incoming ones, as for any OpenTelemetry baggage.
"""

from __future__ import annotations

from opentelemetry import baggage
from opentelemetry.context import Context

from llmtap.labels.policy import LabelPolicy
from llmtap.labels.schema import LabelValue


def incoming_labels(policy: LabelPolicy, context: Context | None) -> dict[str, LabelValue]:
    """Propagated labels found in the baggage of `context` (the current one if None), normalised.

    A bad value never raises here (it arrived from elsewhere): in strict mode it is dropped and counted.
    """
    propagated = policy.propagated
    if not propagated:
        return {}
    entries = baggage.get_all(context)
    if not entries:
        return {}
    found = {key: entries[key] for key in propagated if key in entries}
    return policy.check(found, raising=False) if found else {}
