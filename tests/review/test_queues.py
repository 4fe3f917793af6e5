from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llmtap.config import load_settings
from llmtap.errors import AnnotationError, ConfigError
from llmtap.review import ReviewError, ReviewQueues, parse_queues
from llmtap.store import open_store
from llmtap.store.api import StoreError
from tests.review.conftest import ANNOTATIONS, QUEUES
from tests.support.telemetry import Telemetry

MINUTE = 60 * 10**9
T0 = 1_800_000_000 * 10**9


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def queues_over(traced, clock: Clock | None = None) -> ReviewQueues:
    return ReviewQueues(open_store(traced.store_path), traced.settings, **({"clock": clock} if clock else {}))


def test_items_move_pending_claimed_completed_and_annotations_are_stored(traced, telemetry: Telemetry) -> None:
    run = traced(["Paris.", "Lyon."])
    clock = Clock()
    queues = queues_over(run, clock)
    assert queues.add("review", run.trace_ids[0]) is True
    assert queues.add("review", run.trace_ids[1][:12]) is True  # a unique prefix is enough
    assert queues.add("review", run.trace_ids[0]) is False  # at most once
    assert [(item.trace_id, item.state) for item in queues.items("review")] == [
        (run.trace_ids[0], "pending"),
        (run.trace_ids[1], "pending"),
    ]

    claim = queues.next("review", "ana")
    assert claim is not None
    assert (claim.item.trace_id, claim.item.state, claim.queue.instructions) == (
        run.trace_ids[0],
        "claimed",
        "Is it right?",
    )
    assert [review.as_dict() for review in claim.item.reviews] == [
        {
            "reviewer": "ana",
            "state": "claimed",
            "claimed_until": "2027-01-15T08:15:00.000000Z",
            "updated": "2027-01-15T08:00:00.000000Z",
        }
    ]
    assert claim.trace.trace_id == run.trace_ids[0]
    assert queues.next("review", "ana").item.item_id == claim.item.item_id  # the item held, not a second one
    other = queues.next("review", "bo")
    assert other is not None and other.item.trace_id == run.trace_ids[1]  # ana's slot is taken
    assert queues.next("cy" and "review", "cy") is None

    clock.now += MINUTE
    stored = queues.submit(
        claim.item.item_id, "ana", {"human_feedback": "bad", "correction": "Paris."}, explanation="Lyon is wrong"
    )
    root = claim.trace.summary.root_span_id
    assert [
        (a.name, a.value, a.score, a.label, a.annotator, a.annotator_kind, a.schema_version, a.span_id) for a in stored
    ] == [
        ("human_feedback", "bad", 0.0, "bad", "ana", "human", 1, root),
        ("correction", "Paris.", None, None, "ana", "human", 1, root),
    ]
    # stored at once, with the queue as metadata
    in_store = open_store(run.store_path).annotations(run.trace_ids[0])
    assert sorted((a.annotation_id, a.metadata["queue_item"], a.explanation) for a in in_store) == sorted(
        [
            (stored[0].annotation_id, claim.item.item_id, "Lyon is wrong"),
            (stored[1].annotation_id, claim.item.item_id, "Lyon is wrong"),
        ]
    )
    assert [a.metadata for a in in_store] == [{"queue": "review", "queue_item": claim.item.item_id}] * 2
    assert [a.schema_version for a in in_store] == [1, 1]  # the same type as returned: an int, as annotate() gives
    # and emitted through llmtap.annotate (same id) while instrumented
    records = [record.log_record for record in telemetry.log_records()]
    emitted = [(r.attributes["gen_ai.evaluation.name"], r.trace_id) for r in records]
    assert emitted == [("human_feedback", int(run.trace_ids[0], 16)), ("correction", int(run.trace_ids[0], 16))]
    assert {r.attributes.get("llmtap.annotation.id") for r in records} == {a.annotation_id for a in stored}
    assert queues.item(claim.item.item_id).state == "completed"
    with pytest.raises(StoreError, match="reviewer 'ana' has completed it already"):
        queues.submit(claim.item.item_id, "ana", {"human_feedback": "good"})
    assert queues.next("review", "ana") is None  # bo holds the other one


def test_submit_checks_values_with_the_annotation_schemas(traced) -> None:
    run = traced(["Paris."])
    queues = queues_over(run)
    queues.add("review", run.trace_ids[0])
    item = queues.next("review", "ana").item.item_id
    with pytest.raises(AnnotationError, match=r"annotation 'human_feedback': value='meh': expected one of good, bad"):
        queues.submit(item, "ana", {"human_feedback": "meh"})
    with pytest.raises(
        ReviewError,
        match=r"annotation 'quality' is not asked for by queue 'review'; expected one of human_feedback, correction",
    ):
        queues.submit(item, "ana", {"quality": 3})
    with pytest.raises(ReviewError, match=r"no values given"):
        queues.submit(item, "ana", {})
    assert queues.item(item).state == "claimed"  # nothing recorded by a refused submit
    assert open_store(run.store_path).annotations(run.trace_ids[0]) == []


def test_a_lease_that_runs_out_frees_the_slot(traced) -> None:
    run = traced(["Paris."])
    clock = Clock()
    queues = queues_over(run, clock)
    queues.add("review", run.trace_ids[0])
    item = queues.next("review", "ana").item.item_id
    assert queues.next("review", "bo") is None
    clock.now += 15 * MINUTE - 1
    assert queues.item(item).state == "claimed"
    clock.now += 1  # the 15m lease is over
    assert queues.item(item).state == "pending"
    claim = queues.next("review", "bo")
    assert claim is not None and claim.item.item_id == item
    assert [(r.reviewer, r.state) for r in claim.item.reviews] == [("bo", "claimed")]
    with pytest.raises(StoreError, match=r"every one of its 1 reviewer slot\(s\) is taken"):
        queues.submit(item, "ana", {"human_feedback": "good"})  # ana's lease ran out and bo has it now
    queues.submit(item, "bo", {"human_feedback": "good"})
    assert queues.item(item).state == "completed"


def test_an_item_needs_n_distinct_reviewers_and_skips_free_the_slot(traced) -> None:
    run = traced(["Paris.", "Lyon."])
    queues = queues_over(run)
    first, second = run.trace_ids
    queues.add("pair", first)
    queues.add("pair", second)
    a = queues.next("pair", "ana").item
    b = queues.next("pair", "bo").item
    assert (a.trace_id, b.trace_id) == (first, first)  # two slots on the first item
    assert queues.next("pair", "cy").item.trace_id == second  # the first item's slots are both taken
    queues.submit(a.item_id, "ana", {"human_feedback": "good", "quality": 4})
    assert queues.item(a.item_id).state == "claimed"  # one of two reviews done, bo still holds a slot
    queues.skip(b.item_id, "bo")
    assert queues.item(a.item_id).state == "pending"
    assert queues.next("pair", "bo").item.trace_id == second  # bo is not offered the item they skipped
    assert queues.next("pair", "ana") is None  # the second item's two slots are taken (cy, bo)
    queues.skip(b.item_id + 1, "cy")
    dee = queues.next("pair", "dee")
    assert dee.item.item_id == a.item_id  # the oldest item with a free slot
    queues.submit(a.item_id, "dee", {"human_feedback": "good", "quality": 5, "grounded": "yes"})
    assert queues.item(a.item_id).state == "completed"
    assert [(r.reviewer, r.state) for r in queues.item(a.item_id).reviews] == [
        ("ana", "completed"),
        ("bo", "skipped"),
        ("dee", "completed"),
    ]
    queues.skip(b.item_id + 1, "bo")
    assert queues.item(b.item_id + 1).state == "skipped"  # skipped by as many reviewers as it needs
    stats = queues.stats("pair")
    assert stats.states == {"pending": 0, "claimed": 0, "completed": 1, "skipped": 1}
    assert stats.reviewers == {"ana": 1, "dee": 1}


def test_remove_takes_the_item_and_its_claims_out(traced) -> None:
    run = traced(["Paris."])
    queues = queues_over(run)
    queues.add("review", run.trace_ids[0])
    queues.next("review", "ana")
    assert queues.remove("review", run.trace_ids[0]) is True
    assert queues.remove("review", run.trace_ids[0]) is False
    assert queues.items("review") == []
    assert queues.next("review", "ana") is None


def test_unknown_queue_and_bad_config_are_named(tmp_path: Path) -> None:
    settings = load_settings(config={"annotations": ANNOTATIONS, "queues": QUEUES})
    with pytest.raises(
        ReviewError, match=r"queue 'nope': not declared in \[tool.llmtap.queues\]; expected one of: pair, review"
    ):
        ReviewQueues(open_store(tmp_path / "llmtap.db"), settings).queue("nope")
    schemas = {name: None for name in ANNOTATIONS}
    cases = [
        ({"q": {"annotations": []}}, r"\[tool.llmtap.queues.q\]: annotations=\[\]: expected a non-empty list"),
        ({"q": {"annotations": ["typo"]}}, r"annotations: 'typo' is not declared in \[tool.llmtap.annotations\]"),
        ({"q": {"annotations": ["quality"], "reviewers": 0}}, r"reviewers=0: expected a whole number from 1 to 100"),
        ({"q": {"annotations": ["quality"], "lease": "soon"}}, r"lease='soon': expected a positive duration"),
        (
            {"q": {"annotations": ["quality"], "leese": "1m"}},
            r"unknown key 'leese'; expected one of annotations, reviewers",
        ),
        ({"q": {"annotations": ["quality"], "instructions": 3}}, r"instructions=3: expected a string"),
    ]
    for table, message in cases:
        with pytest.raises(ConfigError, match=message):
            parse_queues(table, "pyproject.toml", schemas)
    parsed = parse_queues(QUEUES, "pyproject.toml", schemas)
    assert parsed["pair"].as_dict() == {
        "name": "pair",
        "annotations": ["human_feedback", "quality", "grounded"],
        "reviewers": 2,
        "lease_seconds": 600.0,
        "instructions": "",
    }


_CLAIMER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from llmtap.config import load_settings
    from llmtap.review import ReviewQueues
    from llmtap.store import open_store
    store_path, go, reviewer, config = sys.argv[1], Path(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
    queues = ReviewQueues(open_store(store_path), load_settings(config=config))
    while not go.exists():
        time.sleep(0.001)
    got = []
    while (claim := queues.next("review", reviewer)) is not None:
        got.append(claim.item.item_id)
        queues.submit(claim.item.item_id, reviewer, {"human_feedback": "good"})
    print(json.dumps(got))
    """
)


def test_two_processes_claiming_at_once_never_get_the_same_slot(traced, tmp_path: Path) -> None:
    run = traced(["Paris."] * 12)
    queues = queues_over(run)
    for trace_id in run.trace_ids:
        queues.add("review", trace_id)
    go = tmp_path / "go"
    config = json.dumps({"annotations": ANNOTATIONS, "queues": QUEUES})
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _CLAIMER, str(run.store_path), str(go), name, config],
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("ana", "bo")
    ]
    go.touch()
    got = [json.loads(worker.communicate(timeout=60)[0]) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    ids = [item.item_id for item in queues.items("review")]
    assert set(got[0]).isdisjoint(got[1])
    assert sorted(got[0] + got[1]) == sorted(ids)
    assert [item.state for item in queues.items("review")] == ["completed"] * 12
    assert len(open_store(run.store_path).annotations()) == 12
