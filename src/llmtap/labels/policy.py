"""The label policy in force: schema, mode (`LLMTAP_LABELS_MODE`) and the process-wide `LLMTAP_TAGS`.

`check()` applies the mode to labels from any source: `warn` logs an unknown key or bad value once per
key and keeps the label, `strict` raises `LabelError` at the call site, `drop` drops the label and
counts it. Values that fit their spec are normalised to the declared type.

Required labels (`required = true`) are checked on LLM spans, not at `llmtap.tags()`: labels nest, so a
block cannot know whether an outer or inner one, `LLMTAP_TAGS` or baggage supplies the rest. An LLM span
(one with `gen_ai.operation.name`, other than the structure operations workflow/agent/tool/retrieval)
that ends without a required label is counted (`llmtap.labels.dropped`, reason `missing_required`) and
logged once per key, in every mode: `strict` raises only from the entry points the application calls
(`llmtap.tags()`, `LLMTracer.trace_llm_call(tags=...)`, `set_tag`), never from inside an SDK call.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import Any

from opentelemetry.metrics import Meter
from opentelemetry.semconv._incubating.attributes.session_attributes import SESSION_ID
from opentelemetry.semconv._incubating.attributes.user_attributes import USER_ID
from opentelemetry.trace import Span

from llmtap import backends
from llmtap.config import Settings
from llmtap.errors import LabelError
from llmtap.labels.accounting import BAD_VALUE, MISSING_REQUIRED, UNKNOWN_KEY, LabelCounter
from llmtap.labels.schema import LabelProblem, LabelSpec, LabelValue, parse_schema, plain_value
from llmtap.labels.spans import ATTRIBUTE_PREFIX, is_llm_span

logger = logging.getLogger("llmtap")

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
    __slots__ = (
        "_lock",
        "_warned",
        "active",
        "backend_labels",
        "counter",
        "env_attributes",
        "env_labels",
        "metric_attributes",
        "mode",
        "propagated",
        "required",
        "settings",
        "specs",
    )

    def __init__(self, specs: Mapping[str, LabelSpec], mode: str = "warn", *, active: bool = True) -> None:
        self.active = active  # False only for the placeholder in force while llmtap is not configured
        self.specs = dict(specs)
        self.mode = mode
        self.propagated = frozenset(key for key, spec in self.specs.items() if spec.propagate)
        # (key, `llmtap.tag.<key>`) of the labels every LLM span must carry.
        self.required = tuple((key, ATTRIBUTE_PREFIX + key) for key, spec in self.specs.items() if spec.required)
        self.metric_attributes = tuple(ATTRIBUTE_PREFIX + key for key, spec in self.specs.items() if spec.metric)
        self.counter = LabelCounter()
        self.settings: Settings | None = None
        self.backend_labels = False  # `LLMTAP_BACKEND_LABELS`: labels also as backends' metadata
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self.env_labels: dict[str, LabelValue] = {}
        self.env_attributes: dict[str, LabelValue] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> LabelPolicy:
        """Compile the settings; a malformed schema is a `ConfigError`, a bad `LLMTAP_TAGS` follows the mode.

        The policy in force is reused when it was compiled from these very settings (the runtime is rebuilt
        with the same settings when a plugin is instrumented): `LLMTAP_TAGS` is checked, logged and counted once.
        """
        if _active.active and _active.settings is settings:
            return _active
        policy = cls(parse_schema(settings.tables.get("labels"), settings.source), settings.labels_mode)
        policy.env_labels = policy.check(settings.tags)
        policy.env_attributes = attributes_of(policy.env_labels)
        policy.settings = settings
        policy.backend_labels = settings.backend_labels
        return policy

    def problem(self, key: str, value: Any) -> tuple[LabelValue | None, str | None]:
        """(normalised value, None) when the label fits the schema, else (None, what is wrong)."""
        if value is None:  # `tags(user_id=None)`: no value, never the text "None"
            return None, f"label {key}=None: expected a string, number or boolean (None is no value: left out)"
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
                if isinstance(key, str) and key and value is not None:
                    result[key] = plain_value(key, value)
                continue
            self.counter.add(str(key), BAD_VALUE if key in self.specs else UNKNOWN_KEY)
            self._warn_once(str(key), message + " (dropped)")
        return result

    def missing(self, labels: Mapping[str, Any]) -> list[str]:
        """Required labels absent from `labels`."""
        return [key for key, spec in self.specs.items() if spec.required and key not in labels]

    def bind_meter(self, meter: Meter) -> None:
        """Record `llmtap.labels.dropped` through `meter` (the runtime's meter provider)."""
        self.counter.bind(meter)

    def check_span(self, name: str, attributes: Mapping[str, Any] | None) -> None:
        """Count and log (once per key) the required labels an ended LLM span lacks. Never raises a LabelError."""
        if not is_llm_span(attributes):
            return
        for key, attribute in self.required:
            if attribute not in attributes:
                self.counter.add(key, MISSING_REQUIRED)
                self._warn_once(
                    "required:" + key,
                    f"LLM span {name!r} has no label {key!r}, which the label schema marks required; expected it "
                    "from LLMTAP_TAGS, llmtap.tags(...) or baggage",
                )

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


def stamp_label(span: Span, labels: Mapping[str, LabelValue]) -> None:
    """Labels set on one span after it started (`LLMSpan.set_tag`): `llmtap.tag.<key>` and, when
    `LLMTAP_BACKEND_LABELS` is on, the backends' metadata, merged with what the span already has."""
    span.set_attributes(attributes_of(labels))
    if current_policy().backend_labels:
        metadata = (getattr(span, "attributes", None) or {}).get(backends.METADATA)
        existing = json.loads(metadata) if isinstance(metadata, str) else None
        span.set_attributes(backends.label_attributes(labels, existing if isinstance(existing, dict) else None))
