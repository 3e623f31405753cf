"""Fixtures of the fault tests: a database of their own and a TcpProxy in front of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.reliability.rig import FAULT_DB, FaultRig
from tests.support.database import create_database, migrate
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
