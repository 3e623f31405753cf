"""The process's one engine, tuned for Postgres behind a network (and Neon in particular)."""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from aido.core.config import Settings
from aido.core.db_url import is_pooled

log = logging.getLogger("aido.db")

APPLICATION_NAME = "aido-backend"
_CHECKED_IN_AT = "aido_checked_in_at"
# psycopg's own default: a statement is prepared on the server at its 5th execution.
PREPARE_THRESHOLD = 5


def build_engine(settings: Settings, *, application_name: str = APPLICATION_NAME) -> AsyncEngine:
    engine = create_async_engine(
        settings.DATABASE_URL,
        pool_size=settings.DB_POOL_SIZE,
        max_overflow=settings.DB_MAX_OVERFLOW,
        pool_timeout=settings.DB_POOL_TIMEOUT,
        pool_recycle=settings.DB_POOL_RECYCLE,
        # Every API operation is one statement, so autocommit makes each request exactly one
        # round trip: no BEGIN before it and no ROLLBACK when the connection goes back.
        isolation_level="AUTOCOMMIT",
        # SQL parameters (password hashes, task text) never reach exception messages or logs.
        hide_parameters=True,
        connect_args={
            "connect_timeout": settings.DB_CONNECT_TIMEOUT,
            # Off until the connection is known to be safe for them (_install_prepared_statements).
            "prepare_threshold": None,
            "application_name": application_name,
            # Client-side TCP liveness (safe behind any pooler): a peer that vanishes without
            # a reset, a NAT or load balancer dropping state, is noticed in about a minute
            # instead of never, so a request cannot wait on a dead socket forever.
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            "tcp_user_timeout": 60_000,
        },
    )
    _install_idle_ping(engine, settings.DB_PING_AFTER_IDLE)
    _install_prepared_statements(engine, settings)
    return engine


def _install_prepared_statements(engine: AsyncEngine, settings: Settings) -> None:
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
    mode = settings.DB_PREPARED_STATEMENTS
    pooler_url = is_pooled(settings.DATABASE_URL) or (
        settings.DATABASE_DIRECT_URL is not None
        and settings.DATABASE_DIRECT_URL != settings.DATABASE_URL
    )
    decided: list[bool] = []  # the first decision is logged, and any change after it

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        use: bool
        if mode == "on":
            use, why = True, "DB_PREPARED_STATEMENTS=on"
        elif mode == "off":
            use, why = False, "DB_PREPARED_STATEMENTS=off"
        elif pooler_url:
            use, why = (
                False,
                "DATABASE_URL names a pooler: a -pooler host, or DATABASE_DIRECT_URL differs",
            )
        else:
            announced = dbapi_conn.driver_connection.info.backend_pid
            use = dbapi_conn.run_async(_server_pid) == announced
            why = "direct connection" if use else "the connection goes through a pooler"
        if use:
            dbapi_conn.driver_connection.prepare_threshold = PREPARE_THRESHOLD
        if decided != [use]:
            log.info("server-side prepared statements %s (%s)", "on" if use else "off", why)
            decided[:] = [use]


async def _server_pid(conn: Any) -> int | None:
    async with conn.cursor() as cur:
        await cur.execute("SELECT pg_backend_pid()")
        row = await cur.fetchone()
    return int(row[0]) if row else None


def _install_idle_ping(engine: AsyncEngine, after_idle: float) -> None:
    """pool_pre_ping, but only for connections idle long enough to have been cut.

    SQLAlchemy's pool_pre_ping costs a round trip on every checkout, doubling the round trips
    of a one-statement request. Neon cuts connections when a compute suspends after minutes
    of idleness, so a connection returned moments ago is pinged for nothing. A connection cut
    mid-traffic is still handled: the statement fails with a disconnect error, SQLAlchemy
    invalidates the pool, and the retry layer runs the statement again on a new connection.
    """
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _checkin(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checkout(
        dbapi_conn: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
    ) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at < after_idle:
            return
        try:
            alive = dialect.do_ping(dbapi_conn)
        except Exception:
            alive = False
        if not alive:
            # The pool discards this connection and checks out (or opens) another.
            raise exc.DisconnectionError("idle connection failed its ping")
