"""The process's database handle: psycopg's own pool, and one way to run statements on it.

Every statement runs through `Database.run` on a pooled psycopg connection, retrying transient
failures (Neon cold starts and suspends) within DB_RETRY_MAX_SECONDS; exhaustion becomes
DatabaseUnavailable, which the API answers with 503 and Retry-After. psycopg_pool was chosen
over SQLAlchemy's pool by measurement (bench/README.md, "One query path").

What the pool is asked to keep, beyond holding connections:

- DB_POOL_SIZE connections kept open, DB_MAX_OVERFLOW more under load (closed again after
  OVERFLOW_IDLE_SECONDS unused); a request that finds all of them busy for DB_POOL_TIMEOUT is
  shed with 503 at once, not retried into the queue.
- No connection older than DB_POOL_RECYCLE is handed out, and one idle for DB_PING_AFTER_IDLE
  is pinged first (a connection returned moments ago is not: that would double the round trips).
- A disconnect (Neon suspends by cutting every connection) recycles every connection opened
  before it: idle ones at once, busy ones when they come back (psycopg_pool's `drain`).
- The pool opens connections in its own tasks; a request waiting for one while the database
  cannot be reached gets the connect error itself (not a silent wait until the pool timeout),
  so the retry layer sees refusals, bad passwords and pooler limits exactly as it would with a
  connect of its own, and the next attempt asks for a new connection at its own backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self, TypeVar

import psycopg
from psycopg.types.string import TextLoader
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from aido.core.config import Settings
from aido.core.db_url import is_pooled, libpq_url
from aido.core.errors import DatabaseUnavailable
from aido.core.metrics import count_refusal
from aido.db.retry import RetryBudgetExhausted, retry_transient
from aido.db.transient import (
    PoolExhausted,
    describe,
    is_pooler_queue_full,
    is_transient,
    is_unavailable,
)

log = logging.getLogger("aido.db")
# Lines of the pool's own tasks (connects), which serve no request: they carry no request id.
pool_log = logging.getLogger("aido.db.pool")
T = TypeVar("T")
# A row as the data layer returns it: column name -> value, ready for orjson (uuid as text).
Row = dict[str, Any]

APPLICATION_NAME = "aido-backend"
# psycopg's own default: a statement is prepared on the server at its 5th execution.
PREPARE_THRESHOLD = 5
# Connections above DB_POOL_SIZE close after this long unused.
OVERFLOW_IDLE_SECONDS = 60.0
# A connection the pool fails to open is tried once more, then left to the next request that
# needs one (which then gets the error): the retry layer paces reconnection, not the pool.
RECONNECT_SECONDS = 0.01

# psycopg_pool logs connect errors with the driver's message; ours are one log-safe line each.
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)


@dataclass(frozen=True, slots=True)
class Query:
    """One SQL statement the app sends: its text with `%(name)s` parameters, and the names of
    the columns it returns, in order (rows become dicts without reading cursor.description,
    which builds a Column object per column on every execution)."""

    sql: str
    columns: tuple[str, ...] = ()


class Connection(psycopg.AsyncConnection[tuple[Any, ...]]):
    """A pooled connection, with what the pool's checks need to know about it."""

    opened_at: float = 0.0
    returned_at: float = 0.0

    @classmethod
    async def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
        failed: Callable[[BaseException], None] = kwargs.pop("on_failure")
        try:
            conn = await super().connect(conninfo, **kwargs)
        except Exception as exc:
            failed(exc)
            raise
        conn.opened_at = conn.returned_at = time.monotonic()
        return conn

    async def fetch_all(self, query: Query, params: Mapping[str, Any] | None = None) -> list[Row]:
        async with self.cursor() as cur:
            await cur.execute(query.sql, params)
            if not query.columns:
                return []
            columns = query.columns
            return [dict(zip(columns, row, strict=True)) for row in await cur.fetchall()]

    async def fetch_one(self, query: Query, params: Mapping[str, Any] | None = None) -> Row | None:
        rows = await self.fetch_all(query, params)
        return rows[0] if rows else None


@dataclass(frozen=True)
class PoolStats:
    """The connection pool of this process, as /metrics reports it (core/metrics.py)."""

    size: int  # DB_POOL_SIZE
    max_overflow: int  # DB_MAX_OVERFLOW
    in_use: int  # checked out by a request
    idle: int  # open, in the pool
    overflow: int  # in use beyond `size` (idle ones opened for a burst are in `idle`)
    waiting: int  # requests waiting for a connection: a free one, or one being opened

    @property
    def capacity(self) -> int:
        return self.size + self.max_overflow


class Database:
    def __init__(self, settings: Settings, *, application_name: str = APPLICATION_NAME) -> None:
        self._max_seconds = settings.DB_RETRY_MAX_SECONDS
        self._retry_after = max(1, int(settings.DB_CONNECT_TIMEOUT / 2))
        self._pool_timeout = settings.DB_POOL_TIMEOUT
        self._recycle = float(settings.DB_POOL_RECYCLE)
        self._ping_after_idle = settings.DB_PING_AFTER_IDLE
        self._size = settings.DB_POOL_SIZE
        self._max_size = settings.DB_POOL_SIZE + settings.DB_MAX_OVERFLOW
        self._prepared = _PreparedStatements(settings)
        self._in_use = 0
        self._drained_at = 0.0
        # False until a connection opens, and again after a connect fails: checkouts then
        # also wait for the pool's next connect failure (see _checkout).
        self._reachable = False
        self._next_failure: asyncio.Future[BaseException] | None = None
        self._pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            libpq_url(settings.DATABASE_URL),
            connection_class=Connection,
            kwargs={
                # Every API operation is one statement, so autocommit makes each request
                # exactly one round trip: no BEGIN before it and no ROLLBACK after it.
                "autocommit": True,
                # Off until the connection is known to be safe for them (_PreparedStatements).
                "prepare_threshold": None,
                "connect_timeout": settings.DB_CONNECT_TIMEOUT,
                "application_name": application_name,
                # Client-side TCP liveness (safe behind any pooler): a peer that vanishes
                # without a reset, a NAT or load balancer dropping state, is noticed in about a
                # minute instead of never, so a request cannot wait on a dead socket forever.
                "keepalives": 1,
                "keepalives_idle": 30,
                "keepalives_interval": 10,
                "keepalives_count": 3,
                "tcp_user_timeout": 60_000,
                "on_failure": self._connect_failed,
            },
            min_size=self._size,
            max_size=self._max_size,
            timeout=self._pool_timeout,
            max_lifetime=self._recycle,
            max_idle=OVERFLOW_IDLE_SECONDS,
            reconnect_timeout=RECONNECT_SECONDS,
            configure=self._configure,
            name=application_name,
            open=False,
        )

    async def open(self) -> None:
        """Start opening DB_POOL_SIZE connections in the background (ping waits for one)."""
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    def pool_stats(self) -> PoolStats:
        """What the pool holds now; a cheap read of counters, safe to call often."""
        stats = self._pool.get_stats()
        idle = stats.get("pool_available", 0)
        return PoolStats(
            size=self._size,
            max_overflow=self._max_size - self._size,
            in_use=self._in_use,
            idle=idle,
            # In use, not open: psycopg_pool keeps a connection opened for a burst (or for
            # the checkouts of start-up, made while the first ones are still connecting) for
            # OVERFLOW_IDLE_SECONDS, and a quiet pool then shows it as idle, not overflow.
            overflow=max(0, self._in_use - self._size),
            waiting=stats.get("requests_waiting", 0),
        )

    # running statements ---------------------------------------------------------------------

    async def run(self, op: Callable[[Connection, int], Awaitable[T]]) -> T:
        """Run `op(conn, attempt)` with retries; attempt > 0 means an earlier try may have
        reached the database, so `op` must be written to be repeatable."""
        deadline = time.monotonic() + self._max_seconds

        async def once(attempt: int) -> T:
            return await self._on_a_connection(op, attempt, deadline)

        try:
            return await retry_transient(once, max_seconds=self._max_seconds)
        except RetryBudgetExhausted as exc:
            raise DatabaseUnavailable(str(exc), retry_after=self._retry_after) from None
        except PoolExhausted:
            # Every pooled connection stayed busy for DB_POOL_TIMEOUT: shed load, don't queue.
            count_refusal("db_pool_exhausted")
            raise DatabaseUnavailable("connection pool exhausted", retry_after=1) from None
        except Exception as exc:
            if is_pooler_queue_full(exc):
                # The pooler's own queue stayed full for its query_wait_timeout: shed load too.
                log.warning("database pooler queue full: %s", describe(exc))
                count_refusal("db_pooler_queue_full")
                raise DatabaseUnavailable("pooler queue full", retry_after=1) from None
            if not is_unavailable(exc):
                raise
            # Not worth retrying (a refused login, a pooler that cannot hold prepared
            # statements), and not the request's fault: 503, logged in one line.
            reason = describe(exc)
            log.error("database cannot serve the statement: %s", reason)
            raise DatabaseUnavailable(reason, retry_after=self._retry_after) from None

    async def fetch_all(self, query: Query, params: Mapping[str, Any] | None = None) -> list[Row]:
        """The rows of one statement, as dicts."""

        async def op(conn: Connection, attempt: int) -> list[Row]:
            return await conn.fetch_all(query, params)

        return await self.run(op)

    async def fetch_one(self, query: Query, params: Mapping[str, Any] | None = None) -> Row | None:
        rows = await self.fetch_all(query, params)
        return rows[0] if rows else None

    async def ping(self) -> None:
        """SELECT 1, tried twice. After a suspend (Neon, pg_terminate_backend) the pooled
        connections are dead and the first try only discovers it (and recycles them); the
        second runs on a fresh connection. With one try, /health answered 503 after every
        suspend although the database answered (tests/reliability/test_suspend.py). Callers
        bound the total time (health: wait_for; start-up: its own deadline)."""

        async def select_one(conn: Connection, attempt: int) -> None:
            await conn.execute("SELECT 1")

        for attempt in (1, 2):
            try:
                await self._on_a_connection(select_one, attempt, time.monotonic() + 3600)
                return
            except PoolExhausted:
                raise
            except Exception as exc:
                if attempt == 2 or not is_transient(exc):
                    raise

    # connections ----------------------------------------------------------------------------

    async def _on_a_connection(
        self, op: Callable[[Connection, int], Awaitable[T]], attempt: int, deadline: float
    ) -> T:
        conn = await self._checkout(deadline)
        try:
            result = await op(conn, attempt)
        except BaseException as exc:
            await self._checkin(conn, exc)
            raise
        await self._checkin(conn, None)
        return result

    async def _checkout(self, deadline: float) -> Connection:
        while True:
            wait = max(0.01, min(self._pool_timeout, deadline - time.monotonic()))
            try:
                conn = await (self._pool.getconn(wait) if self._reachable
                              else self._getconn_or_connect_failure(wait))  # fmt: skip
            except PoolTimeout:
                if self._in_use >= self._max_size:
                    raise PoolExhausted from None
                raise  # free capacity but no connection opened in time: transient, retried
            self._in_use += 1
            now = time.monotonic()
            if now - conn.opened_at >= self._recycle:
                await self._discard(conn)
                continue
            if now - conn.returned_at >= self._ping_after_idle:
                try:
                    await conn.execute("")
                except psycopg.Error as exc:
                    log.debug("idle connection failed its ping: %s", describe(exc))
                    await self._disconnected(conn)
                    await self._discard(conn)
                    continue
            return conn

    async def _getconn_or_connect_failure(self, wait: float) -> Connection:
        """A connection, or the error of the pool's next failed connect, whichever comes
        first (a request that merely waited would only learn at the pool timeout)."""
        if self._next_failure is None:
            self._next_failure = asyncio.get_running_loop().create_future()
        failure = self._next_failure
        getting = asyncio.ensure_future(self._pool.getconn(wait))
        try:
            await asyncio.wait((getting, failure), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # this request was cancelled: the connection must not be lost
            getting.cancel()
            getting.add_done_callback(self._give_back)
            raise
        if not getting.done():
            getting.cancel()  # psycopg_pool returns a connection handed over meanwhile
        try:
            return await getting
        except asyncio.CancelledError:
            raise failure.result() from None

    def _give_back(self, getting: asyncio.Future[Connection]) -> None:
        if not getting.cancelled() and getting.exception() is None:
            asyncio.ensure_future(self._pool.putconn(getting.result()))

    def _connect_failed(self, exc: BaseException) -> None:
        if self._reachable:
            pool_log.warning("cannot open a database connection: %s", describe(exc))
        self._reachable = False
        failure, self._next_failure = self._next_failure, None
        if failure is not None and not failure.done():
            failure.set_result(exc)

    async def _configure(self, conn: Connection) -> None:
        """Runs once per new connection, in the pool's task, before anyone uses it."""
        # One row type for every table: ids as the text the API sends (a page of 50 tasks
        # would otherwise build 50 uuid.UUID objects for orjson to turn back into text).
        conn.adapters.register_loader("uuid", TextLoader)
        await self._prepared.configure(conn)
        self._reachable = True

    async def _checkin(self, conn: Connection, exc: BaseException | None) -> None:
        if isinstance(exc, psycopg.Error) and (is_transient(exc) or conn.broken or conn.closed):
            await self._disconnected(conn)
            await conn.close()
        conn.returned_at = time.monotonic()
        self._in_use -= 1
        await self._pool.putconn(conn)

    async def _discard(self, conn: Connection) -> None:
        await conn.close()
        self._in_use -= 1
        await self._pool.putconn(conn)  # a closed connection is replaced by a new one

    async def _disconnected(self, conn: Connection) -> None:
        """`conn` was cut: after a Neon suspend every connection opened before it is dead too.
        Once per disconnect: a connection opened before the last recycling proves nothing new."""
        if conn.opened_at > self._drained_at:
            self._drained_at = time.monotonic()
            await self._pool.drain()


class _PreparedStatements:
    """psycopg prepares a statement on the server after 5 executions and then sends only its
    name. Behind a pooler in transaction mode the next transaction may run on another server
    connection, where the name is unknown ("prepared statement does not exist"), taken by
    another client ("already exists"), or, worst, names another client's statement, which
    would then run with this one's parameters. So they are used only where that cannot
    happen: `on` (a direct connection, or a pooler that tracks them, PgBouncer >= 1.21 with
    max_prepared_statements > 0, as Neon's), or `auto` on a connection proven to be bound to
    one server process: no pooler URL, and the backend pid announced at connect (the
    BackendKeyData a pooler makes up) is the pid of the process that answers.
    """

    def __init__(self, settings: Settings) -> None:
        self.mode = settings.DB_PREPARED_STATEMENTS
        self.pooler_url = is_pooled(settings.DATABASE_URL) or (
            settings.DATABASE_DIRECT_URL is not None
            and settings.DATABASE_DIRECT_URL != settings.DATABASE_URL
        )
        self.decided: bool | None = None  # the first decision is logged, and any change

    async def configure(self, conn: Connection) -> None:
        if self.mode == "on":
            use, why = True, "DB_PREPARED_STATEMENTS=on"
        elif self.mode == "off":
            use, why = False, "DB_PREPARED_STATEMENTS=off"
        elif self.pooler_url:
            use = False
            why = "DATABASE_URL names a pooler: a -pooler host, or DATABASE_DIRECT_URL differs"
        else:
            row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
            use = row is not None and row[0] == conn.info.backend_pid
            why = "direct connection" if use else "the connection goes through a pooler"
        if use:
            conn.prepare_threshold = PREPARE_THRESHOLD
        if self.decided is not use:
            log.info("server-side prepared statements %s (%s)", "on" if use else "off", why)
            self.decided = use
