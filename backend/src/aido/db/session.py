"""The request-scoped database handle and the `get_session` FastAPI dependency.

Each call runs one statement on a pooled connection, retrying transient failures (Neon cold
starts and suspends) within the configured budget; exhaustion becomes DatabaseUnavailable,
which the API answers with 503 and Retry-After.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable

from aido.core.config import Settings
from aido.db.errors import DatabaseUnavailable
from aido.db.retry import RetryBudgetExhausted, retry_transient
from aido.db.transient import is_transient

T = TypeVar("T")
Row = dict[str, Any]


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

    async def fetch_all(self, stmt: Executable) -> list[Row]:
        async def op(conn: AsyncConnection, attempt: int) -> list[Row]:
            result = await conn.execute(stmt)
            keys = tuple(result.keys())
            return [dict(zip(keys, row, strict=True)) for row in result]

        return await self.run(op)

    async def fetch_one(self, stmt: Executable) -> Row | None:
        rows = await self.fetch_all(stmt)
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
