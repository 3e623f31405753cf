"""The per-worker revocation list, read from the suite's real Postgres.

Revocations are read by transaction id from a watermark (the read snapshot's xmin). The case
that a "highest id seen" watermark gets wrong: a revocation whose transaction started first
commits after a later one was already read.
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections.abc import Awaitable, Callable

import psycopg

from aido.core.config import Settings
from aido.core.revocation import RevocationList
from aido.db.database import Database
from aido.queries import users
from tests.support.database import libpq, query


def new_user(url: str) -> uuid.UUID:
    user_id = uuid.uuid4()
    query(url, 'INSERT INTO "user" (id, email, hashed_password) VALUES (%s, %s, %s)',
          user_id, f"{user_id}@example.com", "h")  # fmt: skip
    return user_id


Scenario = Callable[[Database, RevocationList], Awaitable[None]]


async def with_list(
    url: str,
    scenario: Scenario,
    *,
    max_age: float = 1000,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    settings = Settings(DATABASE_URL=url, _env_file=None)
    db = Database(settings)
    await db.open()
    try:
        fetch = functools.partial(users.revocations_since, db, lifetime_seconds=3600)
        await scenario(db, RevocationList(fetch, max_age=max_age, retain=3600, clock=clock))
    finally:
        await db.close()


def test_a_revocation_that_commits_after_a_later_one_was_read_is_not_missed(
    database_url: str,
) -> None:
    slow, fast = new_user(database_url), new_user(database_url)

    async def scenario(db: Database, revocations: RevocationList) -> None:
        await revocations.refresh()
        assert not revocations.is_revoked(slow, 0)
        with psycopg.connect(libpq(database_url)) as held:  # a transaction, left open
            held.execute(users.REVOKE.sql, {"user_id": slow})  # its xid is assigned first
            assert await users.revoke_tokens(db, user_id=fast) == 1  # a later xid, committed
            await revocations.refresh()
            assert revocations.is_revoked(fast, 0)
            assert not revocations.is_revoked(slow, 0)  # not committed yet: not visible
            held.commit()
        await revocations.refresh()
        assert revocations.is_revoked(slow, 0)
        assert not revocations.is_revoked(slow, 1)  # a token of the new generation is fine

    asyncio.run(with_list(database_url, scenario))


def test_the_first_read_finds_the_revocations_of_the_token_lifetime(database_url: str) -> None:
    recent, old = new_user(database_url), new_user(database_url)
    query(database_url, """UPDATE "user" SET token_generation = 1, tokens_revoked_at = now(),
          tokens_revoked_xid = 1 WHERE id = %s""", recent)  # fmt: skip
    query(database_url, """UPDATE "user" SET token_generation = 1,
          tokens_revoked_at = now() - interval '2 hours', tokens_revoked_xid = 1
          WHERE id = %s""", old)  # fmt: skip

    async def scenario(db: Database, revocations: RevocationList) -> None:
        await revocations.refresh()
        assert revocations.is_revoked(recent, 0)
        # Revoked before the lifetime (3600 s here): every token of generation 0 has expired
        # (TokenSigner refuses a token older than the lifetime, whatever its exp).
        assert not revocations.is_revoked(old, 0)

    asyncio.run(with_list(database_url, scenario))


def test_the_revoking_worker_knows_at_once_and_floors_are_forgotten_after_retain(
    database_url: str,
) -> None:
    now = [0.0]
    user = uuid.uuid4()

    async def scenario(db: Database, revocations: RevocationList) -> None:
        await revocations.refresh()
        revocations.note(user, 3)
        assert revocations.is_revoked(user, 2) and not revocations.is_revoked(user, 3)
        now[0] = 3601.0  # past retain: the next read forgets it
        await revocations.ensure_fresh()
        assert not revocations.is_revoked(user, 2) and len(revocations) == 0

    asyncio.run(with_list(database_url, scenario, max_age=1, clock=lambda: now[0]))


def test_a_stale_list_is_read_before_the_request_and_a_fresh_one_is_not(
    database_url: str,
) -> None:
    now = [0.0]
    user = new_user(database_url)

    async def scenario(db: Database, revocations: RevocationList) -> None:
        await revocations.refresh()  # read at t=0; max_age 1 s
        await users.revoke_tokens(db, user_id=user)  # by another worker
        now[0] = 0.4  # younger than max_age / 2: no read at all
        await revocations.ensure_fresh()
        await asyncio.sleep(0.05)
        assert not revocations.is_revoked(user, 0)
        now[0] = 1.2  # older than max_age: this request waits for a read
        await revocations.ensure_fresh()
        assert revocations.is_revoked(user, 0)

    asyncio.run(with_list(database_url, scenario, max_age=1, clock=lambda: now[0]))
