"""Agreement figures against values computed independently: Krippendorff's own worked example (Computing
Krippendorff's Alpha-Reliability, 2011: 4 observers, 12 units, missing values; alpha nominal 0.743,
interval 0.849), and a small queue worked by hand."""

from __future__ import annotations

import pytest

from llmtap.annotations.schema import parse_schemas
from llmtap.review import ReviewQueues
from llmtap.review.agreement import agreement
from llmtap.store import open_store

TEXTBOOK = {  # unit -> observer -> value; a missing value is absent
    1: {"A": 1, "B": 1, "D": 1},
    2: {"A": 2, "B": 2, "C": 3, "D": 2},
    3: {"A": 3, "B": 3, "C": 3, "D": 3},
    4: {"A": 3, "B": 3, "C": 3, "D": 3},
    5: {"A": 2, "B": 2, "C": 2, "D": 2},
    6: {"A": 1, "B": 2, "C": 3, "D": 4},
    7: {"A": 4, "B": 4, "C": 4, "D": 4},
    8: {"A": 1, "B": 1, "C": 2, "D": 1},
    9: {"A": 2, "B": 2, "C": 2, "D": 2},
    10: {"B": 5, "C": 5, "D": 5},
    11: {"C": 1, "D": 1},
    12: {"B": 3},
}
SCHEMAS = parse_schemas(
    {
        "level": {"type": "categorical", "values": ["1", "2", "3", "4", "5"]},
        "score": {"type": "score", "min": 1, "max": 5},
    },
    "test",
)


def test_the_textbook_example_nominal_and_interval() -> None:
    nominal = agreement(
        SCHEMAS["level"], "level", {unit: {k: str(v) for k, v in row.items()} for unit, row in TEXTBOOK.items()}
    )
    interval = agreement(SCHEMAS["score"], "score", TEXTBOOK)
    assert round(nominal.alpha, 3) == 0.743
    assert round(interval.alpha, 3) == 0.849
    # 55 pairs of ratings of the same unit, 43 of them equal (counted by hand, unit by unit)
    assert nominal.percent == interval.percent == 43 / 55
    assert (nominal.level, nominal.items, nominal.paired_items, nominal.ratings, nominal.reviewers) == (
        "nominal",
        12,
        11,
        41,
        4,
    )


def test_undefined_figures_are_none() -> None:
    single = agreement(SCHEMAS["score"], "score", {1: {"A": 3}, 2: {"B": 4}})
    assert (single.percent, single.alpha) == (None, None)  # no unit has two ratings
    same = agreement(SCHEMAS["score"], "score", {1: {"A": 3, "B": 3}})
    assert (same.percent, same.alpha) == (1.0, None)  # one value only: alpha is undefined
    text = agreement(parse_schemas({"c": {"type": "text"}}, "t")["c"], "c", {1: {"A": "x", "B": "x"}})
    assert (text.level, text.percent, text.alpha) == (None, None, None)


def test_queue_stats_worked_by_two_reviewers(traced) -> None:
    run = traced(["Paris.", "Lyon.", "Nice."])
    queues = ReviewQueues(open_store(run.store_path), run.settings)
    for trace_id in run.trace_ids:
        queues.add("pair", trace_id)
    given = {
        "ana": [
            {"human_feedback": "good", "quality": 4},
            {"human_feedback": "good", "quality": 3},
            {"human_feedback": "bad", "quality": 5, "grounded": True},
        ],
        "bo": [
            {"human_feedback": "good", "quality": 4},
            {"human_feedback": "bad", "quality": 2},
            {"human_feedback": "bad", "quality": 5},
        ],
    }
    for reviewer, values in given.items():
        for value in values:
            claim = queues.next("pair", reviewer)
            queues.submit(claim.item.item_id, reviewer, value)
    stats = queues.stats("pair").as_dict()
    assert stats["states"] == {"pending": 0, "claimed": 0, "completed": 3, "skipped": 0}
    assert stats["reviewers"] == {"ana": 3, "bo": 3}
    feedback, quality, grounded = stats["agreement"]
    # nominal, by hand: o(g,g)=2, o(g,b)=o(b,g)=1, o(b,b)=2, n=6; Do=2/6, De=2*3*3/(6*5)=0.6 -> 1-(1/3)/0.6 = 4/9
    assert feedback["percent_agreement"] == 2 / 3
    assert feedback["alpha"] == pytest.approx(4 / 9)
    # interval, by hand: Do=(2*(3-2)^2)/6=1/3; De=sum of ordered squared differences 82/(6*5) -> 1-10/82 = 36/41
    assert quality["percent_agreement"] == 2 / 3
    assert quality["alpha"] == pytest.approx(36 / 41)
    assert grounded == {
        "name": "grounded",
        "level": "nominal",
        "items": 1,
        "paired_items": 0,
        "ratings": 1,
        "reviewers": 1,
        "percent_agreement": None,
        "alpha": None,
    }
