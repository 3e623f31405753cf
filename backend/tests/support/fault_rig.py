"""The fault rig: a backend process that reaches the suite's Postgres only through a TcpProxy.

The rig uses a database of its own on the suite's Postgres, so terminating "every server
connection" (as Neon does on suspend) hits the fault server's connections and nothing else.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import psycopg
from sqlalchemy.engine import make_url

from tests.support.database import libpq, query, truncate_all
from tests.support.server import Server, base_env, run_server
from tests.support.tcp_proxy import TcpProxy

FAULT_DB = "aido_faults"
LIVE_BOUND = 1.0  # /health/live touches no database: it answers at once, whatever happens
T = TypeVar("T")

# Short budgets keep the suite fast; every wait below is bounded by them.
FAULT_ENV = {
    "DB_CONNECT_TIMEOUT": "2",
    "DB_RETRY_MAX_SECONDS": "3",
    "DB_POOL_TIMEOUT": "2",
    "DB_PING_AFTER_IDLE": "1",
    "DB_STARTUP_TIMEOUT": "20",
    "LOG_LEVEL": "INFO",
}


@dataclass
class FaultRig:
    proxy: TcpProxy
    db_url: str  # direct (not proxied) superuser URL of the rig's database
    admin_url: str
    jwt_secret: str
    log_dir: Path

    @property
    def proxied_url(self) -> str:
        url = make_url(self.db_url).set(host="127.0.0.1", port=self.proxy.port)
        return url.render_as_string(hide_password=False)

    def env(self, **overrides: str) -> dict[str, str]:
        return base_env(
            DATABASE_URL=self.proxied_url,
            JWT_SECRET=self.jwt_secret,
            **{**FAULT_ENV, **overrides},
        )

    @contextlib.contextmanager
    def server(self, **overrides: str) -> Iterator[Server]:
        with run_server(self.env(**overrides), self.log_dir, timeout=40) as server:
            yield server

    def terminate_backends(self) -> int:
        """pg_terminate_backend on every connection to the rig's database: SQLSTATE 57P01."""
        rows = query(
            self.admin_url,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            FAULT_DB,
        )
        return int(rows[0][0])  # type: ignore[call-overload]

    def backend_count(self) -> int:
        rows = query(
            self.admin_url,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            FAULT_DB,
        )
        return int(rows[0][0])  # type: ignore[call-overload]

    def tasks(self) -> list[tuple[object, ...]]:
        return query(self.db_url, "SELECT id::text, title, idempotency_key FROM task")

    @contextlib.contextmanager
    def table_locked(self, table: str = "task") -> Iterator[psycopg.Connection]:
        """Hold ACCESS EXCLUSIVE on `table` in an open transaction: every statement on it
        waits, which makes the slow requests of the pool-exhaustion test real."""
        with psycopg.connect(libpq(self.db_url)) as conn:
            conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            try:
                yield conn
            finally:
                conn.rollback()

    def reset(self) -> None:
        truncate_all(self.db_url)


def wait_for(
    probe: Callable[[], T | None], *, timeout: float, interval: float = 0.1, what: str
) -> T:
    """Poll `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except httpx.HTTPError as exc:
            result, last = None, exc
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout}s (last: {last!r})")


def timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def assert_live(c: httpx.Client) -> None:
    response, elapsed = timed(lambda: c.get("/health/live"))
    assert response.status_code == 200
    assert elapsed < LIVE_BOUND, f"/health/live took {elapsed:.2f}s"
