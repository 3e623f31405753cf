"""Argon2 under a bound: a few hashes at once per process, on low-priority threads.

Argon2 costs ~0.2 s of one core and 64 MiB per hash, on purpose. Unbounded, sixteen sign-ups
at once took the CPU from every other request (issue 13: another user's p99 went from 21 to
481 ms). Here at most `slots` hashes run per process, each on a thread of its own executor
whose nice value is raised (Linux), so the event loop and the other requests' work run first
when the CPU is short; requests beyond the bound wait up to `max_wait` seconds for a slot and
are then refused (HashingBusy: 503 with Retry-After). Figures: bench/README.md.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from aido.core.security import hash_password, verify_password

log = logging.getLogger("aido.security")
T = TypeVar("T")


class HashingBusy(Exception):
    """Every hashing slot stayed busy for the whole wait: retry after `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("password hashing is busy")
        self.retry_after = retry_after


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_slots(workers: int | None) -> int:
    """The CPUs this process may use, shared among the server's worker processes."""
    return max(1, usable_cpus() // max(1, workers or 1))


def _lower_priority(nice: int) -> None:
    # Linux keeps a nice value per thread (setpriority on the thread id): only this thread
    # yields, not the event loop. Raising it needs no privilege. Elsewhere, do nothing.
    if nice and sys.platform == "linux":
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        except OSError as exc:
            log.debug("could not lower the hashing thread's priority: %s", exc)


class PasswordHashing:
    def __init__(self, *, slots: int, max_wait: float, nice: int) -> None:
        self.slots = slots
        self.max_wait = max_wait
        self._slots = asyncio.Semaphore(slots)
        self._executor = ThreadPoolExecutor(
            max_workers=slots,
            thread_name_prefix="argon2",
            initializer=_lower_priority,
            initargs=(nice,),
        )
        self._retry_after = max(1, math.ceil(max_wait))

    async def hash(self, password: str) -> str:
        return await self._bounded(hash_password, password)

    async def verify(self, password: str, hashed: str | None) -> bool:
        """False for a wrong password, and for hashed=None after the same cost."""
        return await self._bounded(verify_password, password, hashed)

    async def _bounded(self, fn: Callable[..., T], *args: object) -> T:
        try:
            async with asyncio.timeout(self.max_wait):
                await self._slots.acquire()
        except TimeoutError:
            raise HashingBusy(self._retry_after) from None
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, fn, *args)
        finally:
            self._slots.release()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
