"""The process's one engine, tuned for Postgres behind a network (and Neon in particular)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from aido.core.config import Settings

APPLICATION_NAME = "aido-backend"
_CHECKED_IN_AT = "aido_checked_in_at"


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
    return engine


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
