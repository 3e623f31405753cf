"""DB_PREPARED_STATEMENTS: which connections prepare statements on the server, decided on real
connections to the suite's Postgres, directly and through its PgBouncer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aido.core.config import Settings
from aido.db.database import Connection, Database
from aido.testing.pgbouncer import PgBouncer

EXECUTIONS = 8  # above psycopg's threshold of 5


def prepared_on_the_server(database_url: str, direct_url: str | None = None, **env: Any) -> list:
    """Run one statement EXECUTIONS times on one pooled connection of a Database built as the
    app builds it; return the prepared statements of the server session that served it."""
    settings = Settings(
        DATABASE_URL=database_url, DATABASE_DIRECT_URL=direct_url, _env_file=None, **env
    )

    async def run() -> list[Any]:
        db = Database(settings)
        await db.open()
        try:

            async def op(conn: Connection, attempt: int) -> list[Any]:
                for n in range(EXECUTIONS):
                    await conn.execute("SELECT %s::int + 1", (n,))
                # In the same transaction-less round trip as nothing else: the view shows the
                # statements of the server session this query runs on.
                cur = await conn.execute("SELECT statement FROM pg_prepared_statements")
                return [row[0] for row in await cur.fetchall()]

            return await db.run(op)
        finally:
            await db.close()

    return asyncio.run(run())


def test_auto_prepares_on_a_direct_connection(pooled_db_url: str) -> None:
    assert prepared_on_the_server(pooled_db_url) == ["SELECT $1::int + 1"]


def test_auto_does_not_prepare_through_a_pooler_it_was_not_told_about(
    pooler: PgBouncer, pooled_db_url: str
) -> None:
    # No DATABASE_DIRECT_URL, no -pooler host: only the connection itself tells.
    assert prepared_on_the_server(pooler.url(pooled_db_url)) == []


def test_auto_does_not_prepare_when_the_direct_url_differs(
    pooler: PgBouncer, pooled_db_url: str
) -> None:
    assert prepared_on_the_server(pooler.url(pooled_db_url), pooled_db_url) == []


@pytest.mark.parametrize(("mode", "expected"), [("off", []), ("on", ["SELECT $1::int + 1"])])
def test_on_and_off_are_obeyed_on_a_direct_connection(
    pooled_db_url: str, mode: str, expected: list[str]
) -> None:
    assert prepared_on_the_server(pooled_db_url, DB_PREPARED_STATEMENTS=mode) == expected
