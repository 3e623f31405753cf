"""The fault rig behind a pooler: backend -> PgBouncer (transaction mode) -> a Postgres cluster of
its own, which a test may stop, crash or restart without touching the suite's database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aido.testing.pgbouncer import PgBouncer
from aido.testing.postgres import Cluster
from tests.support.database import query, truncate_all
from tests.support.server import Server, base_env, run_server

POOLED_FAULT_DB = "aido_pooled_faults"
# A budget long enough for a restart (~1-2 s) and a 5 s outage; the rest as in rig.FAULT_ENV.
POOLED_FAULT_ENV = {
    "DB_CONNECT_TIMEOUT": "2",
    "DB_RETRY_MAX_SECONDS": "10",
    "DB_POOL_TIMEOUT": "5",
    "DB_PING_AFTER_IDLE": "1",
    "DB_STARTUP_TIMEOUT": "20",
    "LOG_LEVEL": "INFO",
}
POOLER_SETTINGS = {"default_pool_size": "4"}


@dataclass
class PooledRig:
    postgres: Cluster
    pooler: PgBouncer
    db_url: str  # direct superuser URL of the rig's database
    jwt_secret: str
    log_dir: Path

    def env(self, **overrides: str) -> dict[str, str]:
        return base_env(
            DATABASE_URL=self.pooler.url(self.db_url),
            DATABASE_DIRECT_URL=self.db_url,
            JWT_SECRET=self.jwt_secret,
            **{**POOLED_FAULT_ENV, **overrides},
        )

    @contextlib.contextmanager
    def server(self, **overrides: str) -> Iterator[Server]:
        with run_server(self.env(**overrides), self.log_dir / "pooled-faults", timeout=40) as s:
            yield s

    def terminate_server_connections(self) -> int:
        """pg_terminate_backend on the pooler's server connections (SQLSTATE 57P01)."""
        rows = query(
            self.postgres.url,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            POOLED_FAULT_DB,
        )
        return int(rows[0][0])  # type: ignore[call-overload]

    def tasks(self) -> list[tuple[object, ...]]:
        return query(self.db_url, "SELECT id::text, title FROM task")

    def reset(self) -> None:
        self.postgres.start_if_stopped()
        self.pooler.start()
        truncate_all(self.db_url)
