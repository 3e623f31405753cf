"""The retry schedule spans its time budget, against real refused connections."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from aido.db.retry import MAX_DELAY, RetryBudgetExhausted, next_wait, retry_transient
from aido.testing.ports import free_port

BUDGET = 1.5


def test_a_wait_is_capped_and_the_last_one_is_cut_to_the_budget() -> None:
    waits = [next_wait(attempt, remaining=100.0) for attempt in range(40)]
    assert all(w is not None and 0 <= w <= MAX_DELAY for w in waits)
    last = [next_wait(30, remaining=0.3) for _ in range(50)]
    assert all(w is not None and w <= 0.3 for w in last)
    assert next_wait(3, remaining=0.0) is None
    assert next_wait(3, remaining=-1.0) is None


async def _connect(port: int) -> psycopg.AsyncConnection[object]:
    return await psycopg.AsyncConnection.connect(
        f"host=127.0.0.1 port={port} user=x dbname=x connect_timeout=2"
    )


def test_refused_connections_are_retried_until_the_budget_ends_not_for_five_attempts() -> None:
    port = free_port()  # nothing listens: every connect is refused at once
    attempts: list[float] = []

    async def op(attempt: int) -> object:
        attempts.append(time.monotonic())
        return await _connect(port)

    started = time.monotonic()
    with pytest.raises(RetryBudgetExhausted):
        asyncio.run(retry_transient(op, max_seconds=BUDGET))
    elapsed = time.monotonic() - started
    # The attempts cover the budget: the last one runs at its end, not half a second in.
    assert attempts[-1] - started >= BUDGET - 0.05, attempts
    assert elapsed < BUDGET + 0.5
    assert len(attempts) > 5
