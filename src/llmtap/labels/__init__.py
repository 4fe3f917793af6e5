"""Labels: from `LLMTAP_TAGS`, `llmtap.tags()` and W3C baggage, checked against the label schema,
stamped on every span as `llmtap.tag.<key>` (`user_id` / `session_id` also as `user.id` / `session.id`).
"""

from typing import TYPE_CHECKING, Any

from llmtap.labels.context import current_tags, tags
from llmtap.labels.policy import current_policy
from llmtap.labels.schema import LabelSpec, LabelValue

if TYPE_CHECKING:
    from llmtap.labels.threads import ContextThreadPoolExecutor, in_current_context


def dropped_counts() -> dict[str, int]:
    """How many bad labels were dropped, by key, since llmtap was configured (`LLMTAP_LABELS_MODE=drop`)."""
    return current_policy().counter.dropped_by_key()


__all__ = [
    "ContextThreadPoolExecutor",
    "LabelSpec",
    "LabelValue",
    "current_policy",
    "current_tags",
    "dropped_counts",
    "in_current_context",
    "tags",
]


def __getattr__(name: str) -> Any:
    """The thread-pool helpers on first use (they import `concurrent.futures`, which start-up does without)."""
    if name in ("ContextThreadPoolExecutor", "in_current_context"):
        from llmtap.labels import threads

        return getattr(threads, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
