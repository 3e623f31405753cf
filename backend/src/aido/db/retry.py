"""Retry with exponential backoff and full jitter, for as long as the time budget lasts.

The budget is time, not a count of attempts: a database that is back within it is reached,
however many attempts that takes, and the last attempt runs at the budget's end (a budget
spent in 5 quick attempts used to give up after half a second, before the database returned
and before an unknown commit could be resolved).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aido.core.metrics import count_retried_statement, count_retry
from aido.db.transient import describe, is_database_error, is_transient

log = logging.getLogger("aido.db")
T = TypeVar("T")

BASE_DELAY = 0.1
# The cap per wait: once the database answers again, a waiting request reaches it within this.
MAX_DELAY = 2.0


def backoff_delay(attempt: int, *, base: float = BASE_DELAY, cap: float = MAX_DELAY) -> float:
    """Full jitter (AWS architecture blog): spreads replicas' retries after a shared outage."""
    return random.uniform(0, min(cap, base * 2**attempt))  # noqa: S311 - not cryptographic


def next_wait(attempt: int, remaining: float, *, base: float = BASE_DELAY,
              cap: float = MAX_DELAY) -> float | None:  # fmt: skip
    """How long to wait before attempt `attempt + 1`, or None when the budget is spent. The
    last wait is cut to what remains, so the attempts cover the whole budget."""
    if remaining <= 0:
        return None
    return min(backoff_delay(attempt, base=base, cap=cap), remaining)


class RetryBudgetExhausted(Exception):
    def __init__(self, last: BaseException) -> None:
        super().__init__(describe(last))
        self.last = last


async def retry_transient(
    op: Callable[[int], Awaitable[T]], *, max_seconds: float, attempts: int | None = None
) -> T:
    """Run `op(attempt)` until it succeeds, a non-transient error escapes, or `max_seconds`
    have passed since the first attempt (`attempts`, if given, also bounds the count).

    `op` receives the attempt number so an operation whose earlier attempt may have reached
    the database (the connection dropped before the answer) can resolve that outcome.
    """
    started = time.monotonic()
    attempt = 0
    while True:
        try:
            result = await op(attempt)
        except Exception as exc:
            if not is_transient(exc):
                if attempt:  # after retries: the database answered, or failed for good
                    count_retried_statement("failed" if is_database_error(exc) else "recovered")
                raise
            elapsed = time.monotonic() - started
            delay = next_wait(attempt, max_seconds - elapsed)
            attempt += 1
            if delay is None or (attempts is not None and attempt >= attempts):
                log.error(
                    "database unavailable after %d attempts in %.1fs: %s",
                    attempt, elapsed, describe(exc),
                )  # fmt: skip
                count_retried_statement("exhausted")
                raise RetryBudgetExhausted(exc) from None
            count_retry()
            # One line when an outage begins for this statement, not one per attempt.
            (log.warning if attempt == 1 else log.debug)(
                "transient database error: %s; retrying for up to %.1fs more (attempt %d)",
                describe(exc), max_seconds - elapsed, attempt + 1,
            )  # fmt: skip
            await asyncio.sleep(delay)
        else:
            if attempt:
                count_retried_statement("recovered")
            return result
