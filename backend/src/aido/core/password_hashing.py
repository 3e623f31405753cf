"""Argon2 under a bound: a few hashes at once per process, on background-priority threads.

Argon2 costs ~0.2 s of one core and 64 MiB per hash, on purpose. Unbounded, sixteen sign-ups
at once took the CPU from every other request (issue 13: another user's p99 went from 21 to
481 ms). Here at most `slots` hashes run per process, each on a thread of its own executor;
requests beyond the bound wait up to `max_wait` seconds for a slot and are then refused
(HashingBusy: 503 with Retry-After).

On Linux a hash starts under SCHED_IDLE: it runs when no request wants the CPU, and a request
that wakes up takes the CPU back at once (with a raised nice value alone, the scheduler let a
running hash finish its slice first: the other user's p99 was 1.7x higher in the flood bench,
bench/README.md). A hash still running after `promote_after` seconds (requests kept the CPU
busy) goes on at the nice value `nice`, so log-ins slow down under load but are never starved.
nice=0 turns all of this off.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from aido.core.errors import HashingBusy
from aido.core.security import hash_password, verify_password

log = logging.getLogger("aido.security")
T = TypeVar("T")
PROMOTE_AFTER_SECONDS = 1.0
_LINUX = sys.platform == "linux" and hasattr(os, "SCHED_IDLE")


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_slots(workers: int | None) -> int:
    """The CPUs this process may use, shared among the server's worker processes."""
    return max(1, usable_cpus() // max(1, workers or 1))


def _set_policy(tid: int, policy: int) -> None:
    # Linux schedules threads, not processes: this moves only the hashing thread. Moving to
    # SCHED_IDLE and back to SCHED_OTHER at an unchanged nice value needs no privilege.
    try:
        os.sched_setscheduler(tid, policy, os.sched_param(0))
    except OSError as exc:
        log.debug("could not set the hashing thread's policy: %s", exc)


def _background_thread(nice: int) -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError as exc:
        log.debug("could not lower the hashing thread's priority: %s", exc)


class _Job(Generic[T]):
    """One hash on an executor thread, which starts it in the background (SCHED_IDLE)."""

    def __init__(self, fn: Callable[..., T], args: tuple[object, ...], background: bool) -> None:
        self._fn, self._args, self._background = fn, args, background
        self._lock = threading.Lock()
        self.thread_id: int | None = None

    def run(self) -> T:
        tid = threading.get_native_id()
        if self._background:
            _set_policy(tid, os.SCHED_IDLE)
        with self._lock:
            self.thread_id = tid
        try:
            return self._fn(*self._args)
        finally:
            with self._lock:
                self.thread_id = None

    def promote(self) -> None:
        """Out of SCHED_IDLE, if still running (at the thread's raised nice value)."""
        with self._lock:
            if self.thread_id is not None:
                _set_policy(self.thread_id, os.SCHED_OTHER)


class PasswordHashing:
    def __init__(
        self, *, slots: int, max_wait: float, nice: int,
        promote_after: float = PROMOTE_AFTER_SECONDS,
    ) -> None:  # fmt: skip
        self.slots = slots
        self.max_wait = max_wait
        self._background = bool(nice) and _LINUX
        self._promote_after = promote_after
        self._slots = asyncio.Semaphore(slots)
        self._executor = ThreadPoolExecutor(
            max_workers=slots,
            thread_name_prefix="argon2",
            initializer=functools.partial(_background_thread, nice) if self._background else None,
        )
        self._retry_after = max(1, math.ceil(max_wait))

    async def hash(self, password: str) -> str:
        return await self.run(hash_password, password)

    async def verify(self, password: str, hashed: str | None) -> bool:
        """False for a wrong password, and for hashed=None after the same cost."""
        return await self.run(verify_password, password, hashed)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """`fn(*args)` on a hashing thread, once a slot is free (HashingBusy after max_wait)."""
        try:
            async with asyncio.timeout(self.max_wait):
                await self._slots.acquire()
        except TimeoutError:
            raise HashingBusy(self._retry_after) from None
        try:
            job = _Job(fn, args, self._background)
            done = asyncio.wrap_future(self._executor.submit(job.run))
            if self._background:
                finished, _ = await asyncio.wait({done}, timeout=self._promote_after)
                if not finished:
                    job.promote()
            return await done
        finally:
            self._slots.release()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
