"""/health tells whether the database answers, within a bound; /health/live never asks it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.db.test_startup import proxied
from tests.support.server import Server, base_env, run_server
from tests.support.tcp_proxy import TcpProxy

CONNECT_TIMEOUT = 2


def test_healthy(client: httpx.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "database": "connected"}
    assert client.get("/health/live").status_code == 200


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    target = make_url(database_url)
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as p:
        yield p


@pytest.fixture
def proxied_server(
    database_url: str, jwt_secret: str, log_dir: Path, proxy: TcpProxy
) -> Iterator[Server]:
    env = base_env(
        DATABASE_URL=proxied(database_url, proxy),
        JWT_SECRET=jwt_secret,
        DB_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
    )
    with run_server(env, log_dir / "health") as server:
        yield server


def timed_health(url: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(url + "/health", timeout=30)
    return response, time.monotonic() - started


@pytest.mark.parametrize("fault", ["refused", "blackholed"])
def test_unhealthy_within_bound_then_recovers(
    proxied_server: Server, proxy: TcpProxy, fault: str
) -> None:
    assert timed_health(proxied_server.url)[0].status_code == 200
    if fault == "refused":
        proxy.refuse()
    else:
        proxy.blackhole(True)
    proxy.drop_all()
    response, took = timed_health(proxied_server.url)
    assert response.status_code == 503
    assert response.json() == {"status": "unhealthy", "database": "unavailable"}
    assert took < CONNECT_TIMEOUT + 1
    assert httpx.get(proxied_server.url + "/health/live").status_code == 200
    proxy.blackhole(False)
    proxy.restore()
    proxy.drop_all()
    deadline = time.monotonic() + 15
    while timed_health(proxied_server.url)[0].status_code != 200:
        assert time.monotonic() < deadline, "did not recover"
        time.sleep(0.2)
