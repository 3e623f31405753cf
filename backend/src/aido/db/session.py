"""The request-scoped database handle and the `get_session` FastAPI dependency.

Each call runs one statement on a pooled connection, retrying transient failures (Neon cold
starts and suspends) within the configured budget; exhaustion becomes DatabaseUnavailable,
which the API answers with 503 and Retry-After.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import ClauseElement, Executable

from aido.core.config import Settings
from aido.db.errors import DatabaseUnavailable
from aido.db.retry import RetryBudgetExhausted, retry_transient
from aido.db.transient import is_transient

T = TypeVar("T")
Row = dict[str, Any]


class Prepared:
    """A statement compiled once, when the module defining it loads, for the psycopg dialect.

    Building a Core construct and looking it up in SQLAlchemy's compiled cache cost more CPU
    than the rest of a one-statement request (see bench/README.md). The SQL text sent is the
    one SQLAlchemy would compile; it runs through `exec_driver_sql`, so errors are wrapped
    and disconnects invalidate the pool exactly as for `execute`. Values go in as bind
    parameters named by the statement's `bindparam`s.
    """

    __slots__ = ("sql",)
    _dialect = PGDialect_psycopg()  # type: ignore[no-untyped-call]

    def __init__(self, stmt: ClauseElement) -> None:
        self.sql = str(stmt.compile(dialect=self._dialect))

    async def execute(self, conn: AsyncConnection, params: Mapping[str, Any]) -> list[Row]:
        result = await conn.exec_driver_sql(self.sql, dict(params))
        keys = tuple(result.keys())
        return [dict(zip(keys, row, strict=True)) for row in result]


class Database:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self._attempts = settings.DB_RETRY_ATTEMPTS
        self._max_seconds = settings.DB_RETRY_MAX_SECONDS
        self._retry_after = max(1, int(settings.DB_CONNECT_TIMEOUT / 2))

    async def run(self, op: Callable[[AsyncConnection, int], Awaitable[T]]) -> T:
        """Run `op(conn, attempt)` with retries; attempt > 0 means an earlier try may have
        reached the database, so `op` must be written to be repeatable."""

        async def once(attempt: int) -> T:
            async with self.engine.connect() as conn:
                return await op(conn, attempt)

        try:
            return await retry_transient(
                once, attempts=self._attempts, max_seconds=self._max_seconds
            )
        except RetryBudgetExhausted as exc:
            raise DatabaseUnavailable(str(exc), retry_after=self._retry_after) from None
        except sa_exc.TimeoutError:
            # Every pooled connection stayed busy for DB_POOL_TIMEOUT: shed load, don't queue.
            raise DatabaseUnavailable("connection pool exhausted", retry_after=1) from None

    async def fetch_all(
        self, stmt: Executable | Prepared, params: Mapping[str, Any] | None = None
    ) -> list[Row]:
        """The rows as dicts; `params` are the values of a Prepared statement's parameters."""

        async def op(conn: AsyncConnection, attempt: int) -> list[Row]:
            if isinstance(stmt, Prepared):
                return await stmt.execute(conn, params or {})
            result = await conn.execute(stmt)
            keys = tuple(result.keys())
            return [dict(zip(keys, row, strict=True)) for row in result]

        return await self.run(op)

    async def fetch_one(
        self, stmt: Executable | Prepared, params: Mapping[str, Any] | None = None
    ) -> Row | None:
        rows = await self.fetch_all(stmt, params)
        return rows[0] if rows else None

    async def ping(self) -> None:
        """SELECT 1, tried twice. After a suspend (Neon, pg_terminate_backend) the pooled
        connections are dead and the first try only discovers it (SQLAlchemy then invalidates
        the pool); the second runs on a fresh connection. With one try, /health answered 503
        after every suspend although the database answered (tests/reliability/test_suspend.py).
        Callers bound the total time (health: wait_for; start-up: its own deadline)."""
        for attempt in (1, 2):
            try:
                async with self.engine.connect() as conn:
                    await conn.exec_driver_sql("SELECT 1")
                return
            except Exception as exc:
                if attempt == 2 or not is_transient(exc):
                    raise


async def get_session(request: Request) -> Database:
    """FastAPI dependency: the process's database handle (one engine per process)."""
    db: Database = request.app.state.db
    return db
