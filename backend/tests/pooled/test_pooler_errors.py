"""PgBouncer's own errors reach the client as 503 {"detail"} with Retry-After, never a 500: a
full pooler queue is load shed at once, a pooler refusing clients is retried within the budget."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

from aido.testing.pgbouncer import PgBouncer, run_pgbouncer
from tests.support.database import libpq
from tests.support.fault_rig import timed
from tests.support.server import Server, base_env, run_server
from tests.support.users import signup_and_login

BUDGET = 2.0


@contextlib.contextmanager
def behind_a_pooler(
    db_url: str, jwt_secret: str, log_dir: Path, pooler_settings: dict[str, str], pool_size: int
) -> Iterator[tuple[PgBouncer, Server]]:
    """A pooler of the test's own settings, and a backend whose DATABASE_URL goes through it."""
    with run_pgbouncer(db_url, settings=pooler_settings) as bouncer:
        env = base_env(
            DATABASE_URL=bouncer.url(db_url),
            DATABASE_DIRECT_URL=db_url,
            JWT_SECRET=jwt_secret,
            DB_POOL_SIZE=str(pool_size),
            DB_MAX_OVERFLOW="0",
            DB_CONNECT_TIMEOUT="2",
            DB_RETRY_MAX_SECONDS=str(BUDGET),
        )
        with run_server(env, log_dir / "small-pooler") as server:
            yield bouncer, server


def assert_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert set(response.json()) == {"detail"}
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.slow
def test_a_full_pooler_queue_is_answered_503_at_once_not_after_the_budget(
    pooled_db_url: str, jwt_secret: str, log_dir: Path
) -> None:
    # One server connection behind the pooler, shared by the backend's two connections.
    pooler_settings = {"default_pool_size": "1", "query_wait_timeout": "1"}
    with (
        behind_a_pooler(pooled_db_url, jwt_secret, log_dir, pooler_settings, pool_size=2) as (
            _,
            server,
        ),
        httpx.Client(base_url=server.url, timeout=30) as c,
    ):
        user = signup_and_login(c)
        with psycopg.connect(libpq(pooled_db_url)) as locker, ThreadPoolExecutor(1) as pool:
            locker.execute("LOCK TABLE task IN ACCESS EXCLUSIVE MODE")
            # This request waits on the lock, holding the pooler's only server connection...
            slow = pool.submit(c.get, "/tasks", headers=user.headers)
            time.sleep(0.5)
            # ...so this one, on the backend's other connection, waits in the pooler's queue.
            queued, elapsed = timed(lambda: c.get("/users/me", headers=user.headers))
            locker.rollback()
            assert slow.result().status_code == 200
        assert_503(queued)
        assert elapsed < BUDGET, f"retried into a full queue ({elapsed:.1f}s)"
        log = server.log()
    assert "pooler: no server connection free within its query_wait_timeout" in log
    assert "Traceback" not in log


@pytest.mark.slow
def test_a_pooler_refusing_clients_is_retried_for_the_budget_then_answered_503(
    pooled_db_url: str, jwt_secret: str, log_dir: Path
) -> None:
    with (
        behind_a_pooler(
            pooled_db_url, jwt_secret, log_dir, {"max_client_conn": "1"}, pool_size=1
        ) as (pooler, server),
        httpx.Client(  # fmt: skip
            base_url=server.url, timeout=30
        ) as c,
    ):
        user = signup_and_login(c)
        pooler.restart()  # the backend's pooled connection is gone...
        with psycopg.connect(libpq(pooler.url(pooled_db_url))):  # ...and its slot taken
            refused, elapsed = timed(lambda: c.get("/users/me", headers=user.headers))
        assert_503(refused)
        assert BUDGET - 0.2 <= elapsed < BUDGET + 2.5, elapsed
        assert c.get("/users/me", headers=user.headers).status_code == 200
        log = server.log()
    assert "pooler: max_client_conn reached" in log
    assert "Traceback" not in log
