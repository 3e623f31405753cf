"""The request-scoped database handle and the `get_session` FastAPI dependency.

Each call runs one statement on a pooled connection, retrying transient failures (Neon cold
starts and suspends) within the configured budget; exhaustion becomes DatabaseUnavailable,
which the API answers with 503 and Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import psycopg
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Executable, Select
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.util import greenlet_spawn

from aido.core.config import Settings
from aido.core.errors import DatabaseUnavailable
from aido.db.retry import RetryBudgetExhausted, retry_transient
from aido.db.transient import describe, is_pooler_queue_full, is_transient, is_unavailable

log = logging.getLogger("aido.db")
T = TypeVar("T")
Row = dict[str, Any]
RawConnection = psycopg.AsyncConnection[Any]


class Prepared:
    """A statement compiled once, when the module defining it loads, for the psycopg dialect.

    Building a Core construct and looking it up in SQLAlchemy's compiled cache cost more CPU
    than the rest of a one-statement request (see bench/README.md). The SQL text sent is the
    one SQLAlchemy would compile; it runs on a pooled connection's psycopg driver (see
    `Database.run_raw`, which invalidates the pool on a disconnect), so errors are psycopg's
    own. Values go in as bind parameters named by the statement's `bindparam`s.
    """

    __slots__ = ("sql", "keys")
    _dialect = PGDialect_psycopg()  # type: ignore[no-untyped-call]

    def __init__(self, stmt: Select[Any] | UpdateBase) -> None:
        self.sql = str(stmt.compile(dialect=self._dialect))
        # The result's column names, known now: reading them from cursor.description builds
        # a Column object per column on every execution.
        self.keys = tuple(str(col.key) for col in stmt.exported_columns)

    async def execute(self, conn: RawConnection, params: Mapping[str, Any]) -> list[Row]:
        async with conn.cursor() as cur:
            await cur.execute(self.sql, params)
            if not self.keys:
                return []
            keys = self.keys
            return [dict(zip(keys, row, strict=True)) for row in await cur.fetchall()]


class Database:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self._max_seconds = settings.DB_RETRY_MAX_SECONDS
        self._retry_after = max(1, int(settings.DB_CONNECT_TIMEOUT / 2))

    async def run(self, op: Callable[[AsyncConnection, int], Awaitable[T]]) -> T:
        """Run `op(conn, attempt)` with retries; attempt > 0 means an earlier try may have
        reached the database, so `op` must be written to be repeatable."""

        async def once(attempt: int) -> T:
            async with self.engine.connect() as conn:
                return await op(conn, attempt)

        return await self._retrying(once)

    async def run_raw(self, op: Callable[[RawConnection, int], Awaitable[T]]) -> T:
        """Like `run`, on the pooled connection's psycopg driver: the hot paths' way.

        SQLAlchemy's AsyncConnection costs more CPU per statement than the statement itself
        (bench/README.md); the pool is still SQLAlchemy's, so checkout runs the idle ping,
        recycle and pool timeout as before. What `Connection` would do on a disconnect is done
        here: the connection is discarded and every connection opened before it is recycled
        at its next checkout (after a Neon suspend, all of them are dead).
        """

        async def once(attempt: int) -> T:
            async with self._raw() as conn:
                return await op(conn, attempt)

        return await self._retrying(once)

    @asynccontextmanager
    async def _raw(self) -> AsyncIterator[RawConnection]:
        """A pooled connection's psycopg driver, returned to the pool afterwards."""
        fairy = await self.engine.raw_connection()
        try:
            yield _driver(fairy)
        except psycopg.Error as exc:
            if is_transient(exc) or _broken(fairy):
                await greenlet_spawn(self._invalidate, fairy, exc)
            raise
        finally:
            await greenlet_spawn(fairy.close)

    def _invalidate(self, fairy: PoolProxiedConnection, exc: BaseException) -> None:
        self.engine.sync_engine.pool._invalidate(fairy, exc)

    async def _retrying(self, once: Callable[[int], Awaitable[T]]) -> T:
        try:
            return await retry_transient(once, max_seconds=self._max_seconds)
        except RetryBudgetExhausted as exc:
            raise DatabaseUnavailable(str(exc), retry_after=self._retry_after) from None
        except sa_exc.TimeoutError:
            # Every pooled connection stayed busy for DB_POOL_TIMEOUT: shed load, don't queue.
            raise DatabaseUnavailable("connection pool exhausted", retry_after=1) from None
        except Exception as exc:
            if is_pooler_queue_full(exc):
                # The pooler's own queue stayed full for its query_wait_timeout: shed load too.
                log.warning("database pooler queue full: %s", describe(exc))
                raise DatabaseUnavailable("pooler queue full", retry_after=1) from None
            if not is_unavailable(exc):
                raise
            # Not worth retrying (a refused login, a pooler that cannot hold prepared
            # statements), and not the request's fault: 503, logged in one line.
            reason = describe(exc)
            log.error("database cannot serve the statement: %s", reason)
            raise DatabaseUnavailable(reason, retry_after=self._retry_after) from None

    async def fetch_all(
        self, stmt: Executable | Prepared, params: Mapping[str, Any] | None = None
    ) -> list[Row]:
        """The rows as dicts; `params` are the values of a Prepared statement's parameters."""

        if isinstance(stmt, Prepared):
            prepared = stmt

            async def raw_op(conn: RawConnection, attempt: int) -> list[Row]:
                return await prepared.execute(conn, params or {})

            return await self.run_raw(raw_op)

        async def op(conn: AsyncConnection, attempt: int) -> list[Row]:
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
        connections are dead and the first try only discovers it (`_raw` then invalidates
        the pool); the second runs on a fresh connection. With one try, /health answered 503
        after every suspend although the database answered (tests/reliability/test_suspend.py).
        Callers bound the total time (health: wait_for; start-up: its own deadline)."""
        for attempt in (1, 2):
            try:
                await self._select_one()
                return
            except Exception as exc:
                if attempt == 2 or not is_transient(exc):
                    raise

    async def _select_one(self) -> None:
        async with self._raw() as conn:
            await conn.execute("SELECT 1")


def _driver(fairy: PoolProxiedConnection) -> RawConnection:
    conn: RawConnection | None = fairy.driver_connection
    if conn is None:
        raise psycopg.InterfaceError("the pooled connection is closed")
    return conn


def _broken(fairy: PoolProxiedConnection) -> bool:
    conn = fairy.driver_connection
    return conn is None or bool(conn.closed or conn.broken)
