"""The label policy in force: schema, mode (`LLMTAP_LABELS_MODE`) and the process-wide `LLMTAP_TAGS`.

`check()` applies the mode to labels from any source: `warn` logs an unknown key or bad value once per
key and keeps the label, `strict` raises `LabelError` at the call site, `drop` drops the label and
counts it. Values that fit their spec are normalised to the declared type.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.semconv._incubating.attributes.user_attributes import USER_ID

from llmtap.config import Settings
from llmtap.errors import LabelError
from llmtap.labels.schema import LabelProblem, LabelSpec, LabelValue, parse_schema, plain_value

logger = logging.getLogger("llmtap")

ATTRIBUTE_PREFIX = "llmtap.tag."
# Labels that also set a semantic-convention attribute.
ALIASES = {"user_id": USER_ID, "session_id": SESSION_ID}


def attributes_of(labels: Mapping[str, LabelValue]) -> dict[str, LabelValue]:
    """Span attributes for `labels`: `llmtap.tag.<key>`, plus `user.id` / `session.id`."""
    result: dict[str, LabelValue] = {}
    for key, value in labels.items():
        result[ATTRIBUTE_PREFIX + key] = value
        alias = ALIASES.get(key)
        if alias is not None:
            result[alias] = value
    return result


class LabelPolicy:
    __slots__ = ("_lock", "_warned", "active", "dropped", "env_attributes", "env_labels", "mode", "propagated", "specs")

    def __init__(self, specs: Mapping[str, LabelSpec], mode: str = "warn", *, active: bool = True) -> None:
        self.active = active  # False only for the placeholder in force while llmtap is not configured
        self.specs = dict(specs)
        self.mode = mode
        self.propagated = frozenset(key for key, spec in self.specs.items() if spec.propagate)
        self.dropped: Counter[str] = Counter()
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self.env_labels: dict[str, LabelValue] = {}
        self.env_attributes: dict[str, LabelValue] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> LabelPolicy:
        """Compile the settings; a malformed schema is a `ConfigError`, a bad `LLMTAP_TAGS` follows the mode."""
        policy = cls(parse_schema(settings.tables.get("labels"), settings.source), settings.labels_mode)
        policy.env_labels = policy.check(settings.tags)
        policy.env_attributes = attributes_of(policy.env_labels)
        return policy

    def problem(self, key: str, value: Any) -> tuple[LabelValue | None, str | None]:
        """(normalised value, None) when the label fits the schema, else (None, what is wrong)."""
        spec = self.specs.get(key)
        if spec is None:
            if self.specs:
                return None, f"label {key}={value!r}: unknown label; expected one of {', '.join(sorted(self.specs))}"
            return plain_value(key, value), None
        try:
            return spec.normalise(value), None
        except LabelProblem as exc:
            return None, str(exc)

    def check(self, labels: Mapping[str, Any], *, raising: bool = True) -> dict[str, LabelValue]:
        """`labels` normalised under the mode. `raising=False` (incoming baggage) drops instead of raising."""
        result: dict[str, LabelValue] = {}
        for key, value in labels.items():
            if not isinstance(key, str) or not key:
                message = f"label key {key!r}: expected a non-empty string"
                normalised = None
            else:
                normalised, message = self.problem(key, value)
            if message is None:
                result[key] = normalised  # type: ignore[assignment]
                continue
            if self.mode == "strict" and raising:
                raise LabelError(message)
            if self.mode == "warn":
                self._warn_once(str(key), message)
                if isinstance(key, str) and key:
                    result[key] = plain_value(key, value)
                continue
            with self._lock:
                self.dropped[str(key)] += 1
            self._warn_once(str(key), message + " (dropped)")
        return result

    def missing(self, labels: Mapping[str, Any]) -> list[str]:
        """Required labels absent from `labels`."""
        return [key for key, spec in self.specs.items() if spec.required and key not in labels]

    def _warn_once(self, key: str, message: str) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        logger.warning("llmtap: %s (LLMTAP_LABELS_MODE=%s; logged once per label)", message, self.mode)


_NO_SCHEMA = LabelPolicy({}, active=False)
_active: LabelPolicy = _NO_SCHEMA


def activate(policy: LabelPolicy | None) -> None:
    """Make `policy` the one in force (the runtime does this when it is configured, and resets it)."""
    global _active
    _active = _NO_SCHEMA if policy is None else policy


def current_policy() -> LabelPolicy:
    """The policy in force; before llmtap is set up there is no schema and labels are kept as given."""
    return _active
