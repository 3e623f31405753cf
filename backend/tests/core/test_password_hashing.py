"""The hashing bound and the hashing threads' priority (Linux), with real threads."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from aido.core.password_hashing import HashingBusy, PasswordHashing


def policy_and_nice() -> tuple[int, int]:
    tid = threading.get_native_id()
    return os.sched_getscheduler(tid), os.getpriority(os.PRIO_PROCESS, tid)


def held(release: threading.Event, seen: list[tuple[int, int]]) -> str:
    """A stand-in for a long hash: notes its thread's priority at start and at the end."""
    seen.append(policy_and_nice())
    release.wait(10)
    seen.append(policy_and_nice())
    return "done"


def test_beyond_the_slots_a_call_waits_max_wait_then_is_refused() -> None:
    async def scenario() -> None:
        hashing = PasswordHashing(slots=1, max_wait=0.2, nice=0)
        release, seen = threading.Event(), []
        first = asyncio.create_task(hashing.run(held, release, seen))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(HashingBusy) as refused:
            await hashing.run(held, release, seen)
        assert 0.15 < time.monotonic() - started < 2
        assert refused.value.retry_after == 1
        release.set()
        assert await first == "done"
        assert await hashing.run(held, release, seen) == "done"  # the slot is free again
        hashing.close()

    asyncio.run(scenario())


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux's")
def test_a_hash_starts_under_sched_idle_and_is_promoted_to_its_nice_value_when_long() -> None:
    async def scenario() -> None:
        hashing = PasswordHashing(slots=1, max_wait=1, nice=10, promote_after=0.1)
        release, seen = threading.Event(), []
        job = asyncio.create_task(hashing.run(held, release, seen))
        await asyncio.sleep(0.4)  # past promote_after: promoted while it runs
        release.set()
        assert await job == "done"
        assert seen == [(os.SCHED_IDLE, 10), (os.SCHED_OTHER, 10)]
        # The next one starts in the background again.
        quick: list[tuple[int, int]] = []
        release.set()
        await hashing.run(held, release, quick)
        assert quick[0] == (os.SCHED_IDLE, 10)
        assert policy_and_nice() == (os.SCHED_OTHER, 0)  # the event loop's thread is untouched
        hashing.close()

    asyncio.run(scenario())
