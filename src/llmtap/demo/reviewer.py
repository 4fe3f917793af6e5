"""The demo's reviewer: Maya, Velora's support lead, works through the `review` queue with the same Python API
`llmtap queue next/submit/skip` uses (`llmtap.review.ReviewQueues`), then the reviewed traces are exported as
OpenAI fine-tuning chat rows (`llmtap.export`).

What she decides is scripted by question (the routes put a trace in the queue; she judges what she reads in it):
a verdict, and a corrected answer where the assistant's was wrong or incomplete; a question she has no verdict for,
she skips. She has time for `BUDGET` reviews; the rest waits, pending, for the next reviewer: you
(`llmtap queue next review --as you`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from llmtap.config import load_settings
from llmtap.demo.app import CHAT_MODEL
from llmtap.demo.traffic import RANGE, SERVICE, SIZING
from llmtap.export import ExportSummary, Source, export
from llmtap.review import ReviewQueues
from llmtap.store.api import Store, TraceDetail

QUEUE = "review"
REVIEWER = "maya"
BUDGET = 3  # the items she reviews now


class Verdict(NamedTuple):
    quality: str  # answer_quality
    explanation: str
    correction: str | None = None


VERDICTS = {
    SERVICE: Verdict("correct", "The answer is right; the error was the CRM summary (Claude overloaded)."),
    SIZING: Verdict(
        "incomplete",
        "Lists the sizes but never says which one fits 172 cm.",
        "At 172 cm you are in the M range (165-178 cm), so M is your frame size.",
    ),
    RANGE: Verdict(
        "wrong",
        "Answers with the battery size and charging time, not the range.",
        "Between 60 and 120 km on one charge, depending on the assist level, the terrain and your weight.",
    ),
}


class Reviewed(NamedTuple):
    item_id: int
    trace_id: str
    question: str
    verdict: Verdict


@dataclass
class Review:
    """What the reviewer did with each item she claimed, in order, and the items left for others."""

    items: list[Reviewed] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # items she has no verdict for (e.g. from an earlier run)
    left: list[int] = field(default_factory=list)  # pending item ids

    @property
    def corrected(self) -> list[Reviewed]:
        return [item for item in self.items if item.verdict.correction is not None]


def work_queue(store: Store, config: dict[str, Any]) -> Review:
    """Claim the next item and submit her verdict, `BUDGET` times or until none is left for her."""
    queues = ReviewQueues(store, load_settings(config=config))
    done = Review()
    while len(done.items) < BUDGET and (claim := queues.next(QUEUE, REVIEWER)) is not None:
        question = _question(claim.trace)
        verdict = VERDICTS.get(question)
        if verdict is None:
            queues.skip(claim.item.item_id, REVIEWER)
            done.skipped.append(claim.item.item_id)
            continue
        values = {"answer_quality": verdict.quality}
        if verdict.correction is not None:
            values["correction"] = verdict.correction
        queues.submit(claim.item.item_id, REVIEWER, values, explanation=verdict.explanation)
        done.items.append(Reviewed(claim.item.item_id, claim.item.trace_id, question, verdict))
    done.left = [item.item_id for item in queues.items(QUEUE) if item.state == "pending"]
    return done


def _question(trace: TraceDetail) -> str:
    """The customer's question: the `question` argument of the turn's workflow, as its root span captured it
    ("" when content capture was off)."""
    root = next(span for span in trace.spans if span.span_id == trace.summary.root_span_id)
    return json.loads(root.attributes.get("input.value", "{}")).get("question", "")


def export_reviewed(store: Store, output: Path, config: dict[str, Any]) -> ExportSummary:
    """The completed items of the queue as chat rows, each from the trace's answer (its `CHAT_MODEL` call, not
    the Claude summary that follows it), the reviewer's correction in place of a wrong answer."""
    output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # the rows hold conversations: owner only
    return export(store, Source(queue=QUEUE), "chat", output, model=CHAT_MODEL, settings=load_settings(config=config))
