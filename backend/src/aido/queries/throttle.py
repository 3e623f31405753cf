"""Rate limits on attempts (log-in, sign-up, password change), counted before the work.

`admit` counts an attempt on every key it names, or on none: in one transaction it locks the
keys' rows (in key order, so concurrent attempts cannot deadlock), decides, and increments
them only if every key admits. However many attempts arrive at once, at most a key's `limit`
are admitted in its window, and an attempt one key refuses is not charged to the others (a
client at its own limit cannot use up a shared key). The rows live in Postgres: every worker
and replica counts on the same ones. Keys hold a kind and a SHA-256, never an email or address.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aido.core.errors import Throttled
from aido.db.database import Connection, Database, Query

log = logging.getLogger("aido.throttle")

# The longest progressive delay between two admitted attempts on one key.
MAX_DELAY_SECONDS = 60.0
# One admit in this many also sweeps rows whose window and delay are over.
SWEEP_ONE_IN = 100


@dataclass(frozen=True)
class Rule:
    limit: int  # attempts admitted per window
    window: int  # seconds, from the window's first attempt
    # Attempts admitted at full speed in a window; after them each admitted attempt makes
    # the next wait twice as long as the one before (1 s, 2 s, 4 s, … MAX_DELAY_SECONDS).
    delay_after: int | None = None


def key(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return f"{kind}:{digest}"


@dataclass
class _Counter:
    attempts: int
    window_started_at: datetime
    next_attempt_at: datetime


# next_attempt_at when no delay is pending. Not "now": a concurrent transaction that locked
# the row after this one may have read an earlier clock, and would see a wait that is not there.
NO_DELAY = datetime(1970, 1, 1, tzinfo=UTC)


def _wait(rule: Rule, counter: _Counter, now: datetime) -> float:
    """Seconds until `rule` admits an attempt on `counter` (0: now); resets an ended window."""
    if counter.window_started_at + timedelta(seconds=rule.window) <= now:
        counter.attempts, counter.window_started_at, counter.next_attempt_at = 0, now, NO_DELAY
    if counter.attempts >= rule.limit:
        ends = counter.window_started_at + timedelta(seconds=rule.window)
        return (ends - now).total_seconds()
    return max(0.0, (counter.next_attempt_at - now).total_seconds())


def _count(rule: Rule, counter: _Counter, now: datetime) -> None:
    counter.attempts += 1
    if rule.delay_after is not None and counter.attempts > rule.delay_after:
        delay = min(MAX_DELAY_SECONDS, 2.0 ** (counter.attempts - rule.delay_after - 1))
        counter.next_attempt_at = now + timedelta(seconds=delay)
    else:
        counter.next_attempt_at = NO_DELAY


INSERT_MISSING = Query("""
INSERT INTO throttle (key, attempts, window_started_at, next_attempt_at, expires_at)
SELECT k, 0, clock_timestamp(), 'epoch', clock_timestamp()
FROM unnest(%(keys)s::text[]) AS k ORDER BY k
ON CONFLICT (key) DO NOTHING
""")
LOCK = Query("""
SELECT key, attempts, window_started_at, next_attempt_at, clock_timestamp() AS now
FROM throttle WHERE key = ANY(%(keys)s::text[]) ORDER BY key FOR UPDATE
""")
PEEK = Query("""
SELECT key, attempts, window_started_at, next_attempt_at, clock_timestamp() AS now
FROM throttle WHERE key = ANY(%(keys)s::text[])
""")
STORE = Query("""
UPDATE throttle AS t
SET attempts = v.attempts, window_started_at = v.started, next_attempt_at = v.next_at,
    expires_at = v.expires
FROM unnest(%(keys)s::text[], %(attempts)s::int[], %(started)s::timestamptz[],
            %(next_at)s::timestamptz[], %(expires)s::timestamptz[])
     AS v(key, attempts, started, next_at, expires)
WHERE t.key = v.key
""")
SWEEP = Query("""
DELETE FROM throttle WHERE key IN (
  SELECT key FROM throttle WHERE expires_at < now() - interval '1 minute'
  ORDER BY key LIMIT 1000 FOR UPDATE SKIP LOCKED)
""")


async def admit(db: Database, *, rules: dict[str, Rule], what: str) -> None:
    """Counts one attempt on every key of `rules`, or raises Throttled and counts none."""
    keys = sorted(rules)

    async def peek(conn: Connection, attempt: int) -> float:
        # A flood is refused by one plain read, without locks: a key at its limit stays there
        # until its window ends (only a success resetting it at this very moment would make
        # this refusal one too many).
        rows = await (await conn.execute(PEEK.sql, {"keys": keys})).fetchall()
        return max((_wait(rules[name], _Counter(*row), now) for name, *row, now in rows),
                   default=0.0)  # fmt: skip

    async def op(conn: Connection, attempt: int) -> float:
        async with conn.transaction():
            await conn.execute(INSERT_MISSING.sql, {"keys": keys})
            rows = await (await conn.execute(LOCK.sql, {"keys": keys})).fetchall()
            counters: dict[str, _Counter] = {}
            now: datetime | None = None
            wait = 0.0
            for name, attempts, started, next_at, now in rows:
                counters[name] = counter = _Counter(attempts, started, next_at)
                wait = max(wait, _wait(rules[name], counter, now))
            if wait > 0 or now is None:
                return wait
            for name, counter in counters.items():
                _count(rules[name], counter, now)
            await conn.execute(STORE.sql, _columns(rules, counters))
        return 0.0

    wait = await db.run(peek)
    if wait <= 0:
        wait = await db.run(op)
    if wait > 0:
        raise Throttled(what, max(1, math.ceil(wait)))
    if random.randrange(SWEEP_ONE_IN) == 0:  # noqa: S311 - not a secret
        await _sweep(db)


async def _sweep(db: Database) -> None:
    async def op(conn: Connection, attempt: int) -> None:
        await conn.execute(SWEEP.sql)

    try:
        await db.run(op)
    except Exception as exc:  # housekeeping: the attempt itself is already counted
        log.warning("sweeping old throttle rows failed: %s", type(exc).__name__)


def _columns(rules: dict[str, Rule], counters: dict[str, _Counter]) -> dict[str, Any]:
    names = list(counters)
    return {
        "keys": names,
        "attempts": [counters[n].attempts for n in names],
        "started": [counters[n].window_started_at for n in names],
        "next_at": [counters[n].next_attempt_at for n in names],
        "expires": [
            max(
                counters[n].window_started_at + timedelta(seconds=rules[n].window),
                counters[n].next_attempt_at,
            )
            for n in names
        ],
    }


# Locks in key order (the subquery), like admit, then updates: no deadlock with an admit.
FORGIVE = Query("""
UPDATE throttle AS t
SET attempts = CASE WHEN t.key = ANY(%(reset)s::text[]) THEN 0
                    ELSE greatest(t.attempts - 1, 0) END,
    next_attempt_at = CASE WHEN t.key = ANY(%(reset)s::text[]) THEN 'epoch'
                           ELSE t.next_attempt_at END
FROM (SELECT key FROM throttle WHERE key = ANY(%(keys)s::text[]) ORDER BY key FOR UPDATE) AS l
WHERE t.key = l.key
""")


async def forgive(db: Database, *, reset: list[str], refund: list[str]) -> None:
    """After a success: `reset` keys start again from zero; `refund` keys give back the
    attempt just counted (a success is not a failure, and a reset would let a client that
    has one good password clear a count it shares with its failures elsewhere)."""
    params = {"keys": sorted({*reset, *refund}), "reset": reset}

    async def op(conn: Connection, attempt: int) -> None:
        await conn.execute(FORGIVE.sql, params)

    await db.run(op)


# Every statement of the rate limits (tests/queries/test_shapes.py runs each one).
SHAPES = {"insert missing": INSERT_MISSING, "lock": LOCK, "peek": PEEK, "store": STORE,
          "sweep": SWEEP, "forgive": FORGIVE}  # fmt: skip
