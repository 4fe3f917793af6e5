"""`[tool.llmtap.queues.<name>]` tables parsed into `QueueConfig`s.

[tool.llmtap.queues.review]
annotations = ["human_feedback", "correction"]   # the annotation schemas each item asks for
reviewers = 2                                     # distinct reviewers per item (default 1)
lease = "15m"                                     # how long a claim holds (default 15m)
instructions = "Rate the answer; write the right answer as a correction when it is wrong."
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from llmtap.annotations.pending import parse_age
from llmtap.annotations.schema import AnnotationSchema
from llmtap.errors import ConfigError

DEFAULT_LEASE = timedelta(minutes=15)
_KEYS = ("annotations", "reviewers", "lease", "instructions")


@dataclass(frozen=True, slots=True)
class QueueConfig:
    name: str
    annotations: tuple[str, ...]
    reviewers: int = 1
    lease: timedelta = DEFAULT_LEASE
    instructions: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "annotations": list(self.annotations),
            "reviewers": self.reviewers,
            "lease_seconds": self.lease.total_seconds(),
            "instructions": self.instructions,
        }


def parse_queues(
    table: Any, source: str, schemas: Mapping[str, AnnotationSchema] | None = None
) -> dict[str, QueueConfig]:
    """Every queue of the `queues` table; `ConfigError` naming the table, key and value when one is wrong.

    With `schemas`, each annotation a queue asks for must be a declared schema.
    """
    if table is None:
        return {}
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: [tool.llmtap.queues]={table!r}: expected a table of queues")
    return {name: _queue(name, spec, source, schemas) for name, spec in table.items()}


def _queue(name: str, spec: Any, source: str, schemas: Mapping[str, AnnotationSchema] | None) -> QueueConfig:
    where = f"{source}: [tool.llmtap.queues.{name}]"
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where}={spec!r}: expected a table with {', '.join(_KEYS)}")
    unknown = sorted(set(spec) - set(_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; expected one of {', '.join(_KEYS)}")
    names = spec.get("annotations")
    if not isinstance(names, list) or not names or not all(isinstance(item, str) and item for item in names):
        raise ConfigError(f"{where}: annotations={names!r}: expected a non-empty list of annotation schema names")
    if schemas is not None:
        for item in names:
            if item not in schemas:
                known = ", ".join(sorted(schemas)) or "none are declared"
                raise ConfigError(
                    f"{where}: annotations: {item!r} is not declared in [tool.llmtap.annotations]; "
                    f"expected one of: {known}"
                )
    reviewers = spec.get("reviewers", 1)
    if isinstance(reviewers, bool) or not isinstance(reviewers, int) or not 1 <= reviewers <= 100:
        raise ConfigError(f"{where}: reviewers={reviewers!r}: expected a whole number from 1 to 100")
    raw_lease = spec.get("lease", "15m")
    try:
        lease = (
            parse_age(str(raw_lease)) if isinstance(raw_lease, str | int) and not isinstance(raw_lease, bool) else None
        )
    except ValueError:
        lease = None
    if lease is None or lease.total_seconds() <= 0:
        raise ConfigError(f"{where}: lease={raw_lease!r}: expected a positive duration such as 90s, 15m or 2h")
    instructions = spec.get("instructions", "")
    if not isinstance(instructions, str):
        raise ConfigError(f"{where}: instructions={instructions!r}: expected a string")
    return QueueConfig(name, tuple(names), reviewers, lease, instructions)
