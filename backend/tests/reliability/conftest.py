"""Fixtures of the fault tests: a database of their own and a TcpProxy in front of it; and,
for the faults behind a pooler, a Postgres cluster of their own with a PgBouncer in front."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from aido.testing.pgbouncer import PgBouncer, run_pgbouncer
from aido.testing.postgres import Cluster
from tests.reliability.pooled_rig import POOLED_FAULT_DB, POOLER_SETTINGS, PooledRig
from tests.support.database import create_database, migrate
from tests.support.fault_rig import FAULT_DB, FaultRig
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture(scope="session")
def fault_db_url(pg_admin_url: str) -> str:
    url = create_database(pg_admin_url, FAULT_DB)
    migrate(url)
    return url


@pytest.fixture
def rig(fault_db_url: str, pg_admin_url: str, jwt_secret: str, log_dir: Path) -> Iterator[FaultRig]:
    target = make_url(fault_db_url)
    with TcpProxy(target.host or "127.0.0.1", int(target.port or 5432)) as proxy:
        rig = FaultRig(proxy, fault_db_url, pg_admin_url, jwt_secret, log_dir)
        rig.reset()
        yield rig


@pytest.fixture(scope="session")
def restartable_postgres() -> Iterator[Cluster]:
    """A cluster of the fault tests' own (durable: a crash loses no acknowledged commit), so a
    test can stop, crash and restart it without touching the suite's Postgres."""
    cluster = Cluster(durable=True)
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def fault_pooler(restartable_postgres: Cluster) -> Iterator[tuple[PgBouncer, str]]:
    url = create_database(restartable_postgres.url, POOLED_FAULT_DB)
    migrate(url)
    with run_pgbouncer(url, settings=POOLER_SETTINGS) as bouncer:
        yield bouncer, url


@pytest.fixture
def pooled_rig(
    restartable_postgres: Cluster,
    fault_pooler: tuple[PgBouncer, str],
    jwt_secret: str,
    log_dir: Path,
) -> PooledRig:
    bouncer, url = fault_pooler
    rig = PooledRig(restartable_postgres, bouncer, url, jwt_secret, log_dir)
    rig.reset()
    return rig
