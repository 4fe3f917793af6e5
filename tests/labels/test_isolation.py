"""No label ever lands on another request's span: 100 asyncio tasks, 8 threads."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import llmtap
from llmtap.labels import ContextThreadPoolExecutor, in_current_context
from tests.labels.conftest import Setup, tag_attributes


async def test_100_concurrent_asyncio_tasks_keep_their_own_labels(labelled: Setup) -> None:
    telemetry = labelled()
    tracer = telemetry.tracer_provider.get_tracer("web")

    async def request(number: int) -> None:
        with llmtap.tags(user_id=f"u{number}", session_id=f"s{number}"):
            with tracer.start_as_current_span(f"request {number}"):
                await asyncio.sleep(0.001 * (number % 7))
                child = asyncio.create_task(step(number))  # tasks inherit the labels
                await child

    async def step(number: int) -> None:
        await asyncio.sleep(0)
        with llmtap.tags(app_feature=f"f{number}"):
            await asyncio.sleep(0.001 * (number % 3))
            tracer.start_span(f"step {number}").end()

    await asyncio.gather(*(request(number) for number in range(100)))
    spans = telemetry.spans()
    assert len(spans) == 200
    for span in spans:
        kind, number = span.name.split()
        expected = {
            "llmtap.tag.user_id": f"u{number}",
            "user.id": f"u{number}",
            "llmtap.tag.session_id": f"s{number}",
            "session.id": f"s{number}",
        }
        if kind == "step":
            expected["llmtap.tag.app_feature"] = f"f{number}"
        assert tag_attributes(span) == expected


def test_8_threads_with_the_helpers_inherit_their_submitters_labels(labelled: Setup) -> None:
    telemetry = labelled()
    tracer = telemetry.tracer_provider.get_tracer("web")
    barrier = threading.Barrier(8)

    def work(name: str) -> None:
        barrier.wait(timeout=10)  # all eight run at the same time
        tracer.start_span(name).end()

    with ThreadPoolExecutor(max_workers=8) as plain_pool, ContextThreadPoolExecutor(max_workers=8) as pool:
        futures = []
        for number in range(8):
            with llmtap.tags(user_id=f"u{number}"):
                if number % 2:
                    futures.append(pool.submit(work, f"thread {number}"))
                else:
                    futures.append(plain_pool.submit(in_current_context(work), f"thread {number}"))
        for future in futures:
            future.result(timeout=10)
    spans = telemetry.spans()
    assert sorted(span.name for span in spans) == [f"thread {number}" for number in range(8)]
    for span in spans:
        number = span.name.split()[1]
        assert tag_attributes(span) == {"llmtap.tag.user_id": f"u{number}", "user.id": f"u{number}"}


def test_a_thread_started_without_the_helper_carries_no_labels(labelled: Setup) -> None:
    telemetry = labelled()
    tracer = telemetry.tracer_provider.get_tracer("web")
    with llmtap.tags(user_id="u1"), ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: tracer.start_span("bare").end()).result(timeout=10)
    (span,) = telemetry.spans()
    assert tag_attributes(span) == {}


ADMIN = llmtap.tags(role="admin")  # one instance, shared at module level like an application would


async def test_one_tags_instance_entered_by_overlapping_asyncio_tasks(labelled: Setup) -> None:
    telemetry = labelled(schema=None)
    tracer = telemetry.tracer_provider.get_tracer("web")
    entered = asyncio.Event()

    async def handler(name: str, user: str) -> tuple[dict, dict, dict]:
        with llmtap.tags(user_id=user):
            with ADMIN as current:
                if name == "first":
                    entered.set()
                    await asyncio.sleep(0.02)  # exits after "second" entered and left
                else:
                    await entered.wait()
                inside = llmtap.current_tags()
                tracer.start_span(name).end()
            return current, inside, llmtap.current_tags()

    first, second = await asyncio.gather(handler("first", "u1"), handler("second", "u2"))
    assert first == ({"user_id": "u1", "role": "admin"}, {"user_id": "u1", "role": "admin"}, {"user_id": "u1"})
    assert second == ({"user_id": "u2", "role": "admin"}, {"user_id": "u2", "role": "admin"}, {"user_id": "u2"})
    assert llmtap.current_tags() == {}
    assert sorted((span.name, tuple(sorted(tag_attributes(span).items()))) for span in telemetry.spans()) == [
        ("first", (("llmtap.tag.role", "admin"), ("llmtap.tag.user_id", "u1"), ("user.id", "u1"))),
        ("second", (("llmtap.tag.role", "admin"), ("llmtap.tag.user_id", "u2"), ("user.id", "u2"))),
    ]


def test_one_tags_instance_entered_by_overlapping_threads_and_nested_in_itself(labelled: Setup) -> None:
    labelled(schema=None)
    barrier = threading.Barrier(4)
    seen: dict[int, list[dict]] = {}

    def work(number: int) -> None:
        with ADMIN:
            barrier.wait(timeout=10)  # all four inside the same instance at once
            with llmtap.tags(step=number), ADMIN:
                inner = llmtap.current_tags()
            barrier.wait(timeout=10)
            outer = llmtap.current_tags()
        seen[number] = [inner, outer, llmtap.current_tags()]

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(work, number) for number in range(4)]:
            future.result(timeout=10)  # re-raises anything the block raised
    assert seen == {number: [{"role": "admin", "step": number}, {"role": "admin"}, {}] for number in range(4)}


def test_exiting_a_tags_block_in_another_context_never_raises(labelled: Setup) -> None:
    labelled(schema=None)
    block = llmtap.tags(role="admin")
    block.__enter__()
    # exited from a thread (another context) that never entered it: nothing to undo there
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(block.__exit__, None, None, None).result(timeout=10)
    assert llmtap.current_tags() == {"role": "admin"}
    block.__exit__(None, None, None)
    assert llmtap.current_tags() == {}
