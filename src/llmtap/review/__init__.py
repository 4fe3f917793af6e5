"""Review queues: traces waiting for human review, claimed with a lease, reviewed by N distinct reviewers.

    from llmtap.review import ReviewQueues
    queues = ReviewQueues()                       # [tool.llmtap.queues.*] over the store (LLMTAP_STORE)
    claim = queues.next("review", "ana")          # the next item and its trace, or None
    queues.submit(claim.item.item_id, "ana", {"human_feedback": "bad"}, explanation="wrong city")
    queues.stats("review").agreement              # percent agreement and Krippendorff's alpha per name

UI-agnostic: the CLI (`llmtap queue ...`) is a thin shell over it. Nothing on the capture path imports it.
"""

from __future__ import annotations

from llmtap.review.agreement import Agreement, krippendorff_alpha, percent_agreement
from llmtap.review.config import QueueConfig, parse_queues
from llmtap.review.queues import Claim, QueueStats, ReviewError, ReviewQueues

__all__ = [
    "Agreement",
    "Claim",
    "QueueConfig",
    "QueueStats",
    "ReviewError",
    "ReviewQueues",
    "krippendorff_alpha",
    "parse_queues",
    "percent_agreement",
]
