"""The API through a real PgBouncer in transaction mode, as on Neon's `-pooler` host.

One pooler (Debian's PgBouncer 1.18: no prepared-statement tracking) in front of the suite's
Postgres, one database of its own, and one backend process whose DATABASE_URL goes through the
pooler while migrations use DATABASE_DIRECT_URL, the split the app uses on Neon.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aido.testing.pgbouncer import PgBouncer, run_pgbouncer
from tests.support.database import create_database, migrate, truncate_all
from tests.support.server import Server, base_env, run_server

POOLED_DB = "aido_pooled"
# Few server connections for the backend's connections to share: every client connection's
# transactions meet server connections that other client connections used just before.
POOLER_SETTINGS = {"default_pool_size": "3"}
# Two client connections per worker, and more concurrent requests than that.
SERVER_ENV = {"DB_POOL_SIZE": "2", "DB_MAX_OVERFLOW": "1", "LOG_LEVEL": "INFO"}


@pytest.fixture(scope="session")
def pooled_db_url(pg_admin_url: str) -> str:
    url = create_database(pg_admin_url, POOLED_DB)
    migrate(url)
    return url


@pytest.fixture(scope="session")
def pooler(pooled_db_url: str) -> Iterator[PgBouncer]:
    with run_pgbouncer(pooled_db_url, settings=POOLER_SETTINGS) as bouncer:
        yield bouncer


@pytest.fixture(scope="session")
def pooled_server(
    pooler: PgBouncer, pooled_db_url: str, jwt_secret: str, log_dir: Path
) -> Iterator[Server]:
    env = base_env(
        DATABASE_URL=pooler.url(pooled_db_url),
        DATABASE_DIRECT_URL=pooled_db_url,
        JWT_SECRET=jwt_secret,
        **SERVER_ENV,
    )
    with run_server(env, log_dir / "pooled") as server:
        yield server


@pytest.fixture
def pooled_client(pooled_server: Server, pooled_db_url: str) -> Iterator[httpx.Client]:
    truncate_all(pooled_db_url)
    with httpx.Client(base_url=pooled_server.url, timeout=30) as c:
        yield c
