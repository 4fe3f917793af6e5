"""Counting labels that did not reach a span as declared: the counter `llmtap.labels.dropped` ({label}).

Each count carries `llmtap.label.key` and `llmtap.label.reason`:

- `unknown_key`: a label the schema does not declare, dropped (`LLMTAP_LABELS_MODE=drop`, or arriving in
  baggage under `strict`, where it cannot be raised to anyone);
- `bad_value`: a value that does not fit its declared type, dropped in the same cases;
- `missing_required`: an LLM span ended without a label the schema marks `required = true` (any mode).

In `warn` mode bad labels are kept (and logged once), so they are not counted. Counts made before a meter
is bound (a bad `LLMTAP_TAGS` is checked before the telemetry pipeline exists) are recorded when it is.
"""

from __future__ import annotations

import threading
from collections import Counter

from opentelemetry.metrics import Counter as OTelCounter
from opentelemetry.metrics import Meter

DROPPED = "llmtap.labels.dropped"
KEY = "llmtap.label.key"
REASON = "llmtap.label.reason"

UNKNOWN_KEY = "unknown_key"
BAD_VALUE = "bad_value"
MISSING_REQUIRED = "missing_required"


class LabelCounter:
    """In-memory counts by (key, reason), mirrored to the OTel counter once a meter is bound."""

    __slots__ = ("_counter", "_lock", "_pending", "counts")

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self._pending: Counter[tuple[str, str]] = Counter()
        self._counter: OTelCounter | None = None
        self._lock = threading.Lock()

    def add(self, key: str, reason: str) -> None:
        with self._lock:
            self.counts[(key, reason)] += 1
            counter = self._counter
            if counter is None:
                self._pending[(key, reason)] += 1
                return
        counter.add(1, {KEY: key, REASON: reason})

    def bind(self, meter: Meter) -> None:
        """Record through `meter` from now on (and what was counted before)."""
        counter = meter.create_counter(
            DROPPED, unit="{label}", description="Labels dropped or missing from spans, by key and reason."
        )
        with self._lock:
            pending, self._pending = self._pending, Counter()
            self._counter = counter
        for (key, reason), amount in pending.items():
            counter.add(amount, {KEY: key, REASON: reason})

    def dropped_by_key(self) -> dict[str, int]:
        """Dropped labels (unknown key or bad value) by key; missing required labels are not drops."""
        result: Counter[str] = Counter()
        with self._lock:
            for (key, reason), amount in self.counts.items():
                if reason != MISSING_REQUIRED:
                    result[key] += amount
        return dict(result)
