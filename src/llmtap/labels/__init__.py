"""Labels: from `LLMTAP_TAGS`, `llmtap.tags()` and W3C baggage, checked against the label schema,
stamped on every span as `llmtap.tag.<key>` (`user_id` / `session_id` also as `user.id` / `session.id`).
"""

from llmtap.labels.context import current_tags, tags
from llmtap.labels.policy import current_policy
from llmtap.labels.schema import LabelSpec, LabelValue
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
