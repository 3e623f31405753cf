"""Retry with exponential backoff and full jitter, bounded in attempts and total time."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aido.db.transient import describe, is_transient

log = logging.getLogger("aido.db")
T = TypeVar("T")

BASE_DELAY = 0.1
MAX_DELAY = 2.0


def backoff_delay(attempt: int, *, base: float = BASE_DELAY, cap: float = MAX_DELAY) -> float:
    """Full jitter (AWS architecture blog): spreads replicas' retries after a shared outage."""
    return random.uniform(0, min(cap, base * 2**attempt))  # noqa: S311 - not cryptographic


class RetryBudgetExhausted(Exception):
    def __init__(self, last: BaseException) -> None:
        super().__init__(describe(last))
        self.last = last


async def retry_transient(
    op: Callable[[int], Awaitable[T]], *, attempts: int, max_seconds: float
) -> T:
    """Run `op(attempt)` until it succeeds, a non-transient error escapes, or the budget ends.

    `op` receives the attempt number so an operation whose earlier attempt may have reached
    the database (the connection dropped before the answer) can resolve that outcome.
    """
    started = time.monotonic()
    attempt = 0
    while True:
        try:
            return await op(attempt)
        except Exception as exc:
            if not is_transient(exc):
                raise
            delay = backoff_delay(attempt)
            attempt += 1
            elapsed = time.monotonic() - started
            if attempt >= attempts or elapsed + delay > max_seconds:
                log.error(
                    "database unavailable after %d attempts in %.1fs: %s",
                    attempt,
                    elapsed,
                    describe(exc),
                )
                raise RetryBudgetExhausted(exc) from None
            log.warning(
                "transient database error: %s; retry %d/%d in %.2fs",
                describe(exc),
                attempt,
                attempts - 1,
                delay,
            )
            await asyncio.sleep(delay)
