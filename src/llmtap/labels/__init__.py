"""Labels: from `LLMTAP_TAGS`, `llmtap.tags()` and W3C baggage, checked against the label schema,
stamped on every span as `llmtap.tag.<key>` (`user_id` / `session_id` also as `user.id` / `session.id`).

The names below are imported on first use: a submodule (`llmtap.labels.spans`, read by the CLI) does not pay for the
whole label machinery, nor the thread-pool helpers for `concurrent.futures`.
"""

from typing import TYPE_CHECKING

from llmtap.lazy import lazy_names

if TYPE_CHECKING:
    from llmtap.labels.context import current_tags, tags
    from llmtap.labels.policy import current_policy
    from llmtap.labels.schema import LabelSpec, LabelValue
    from llmtap.labels.threads import ContextThreadPoolExecutor, in_current_context

# Public name -> the module defining it.
_LAZY = {
    "ContextThreadPoolExecutor": "llmtap.labels.threads",
    "in_current_context": "llmtap.labels.threads",
    "LabelSpec": "llmtap.labels.schema",
    "LabelValue": "llmtap.labels.schema",
    "current_policy": "llmtap.labels.policy",
    "current_tags": "llmtap.labels.context",
    "tags": "llmtap.labels.context",
}


def dropped_counts() -> dict[str, int]:
    """How many bad labels were dropped, by key, since llmtap was configured (`LLMTAP_LABELS_MODE=drop`)."""
    from llmtap.labels.policy import current_policy

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
__getattr__ = lazy_names(__name__, globals(), _LAZY)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
