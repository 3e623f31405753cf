"""Fault 5: more slow requests than connections. The excess waits DB_POOL_TIMEOUT, then 503."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, wait

import httpx
import pytest

from tests.support.database import query
from tests.support.fault_rig import FAULT_DB, FaultRig, assert_live, timed, wait_for
from tests.support.users import signup_and_login

POOL = {"DB_POOL_SIZE": "1", "DB_MAX_OVERFLOW": "1", "DB_POOL_TIMEOUT": "1"}
CONNECTIONS = 2  # pool size + overflow
REQUESTS = 6
SHED_BOUND = 1.0 + 2.0  # DB_POOL_TIMEOUT plus slack


def lock_waiters(rig: FaultRig) -> int:
    rows = query(
        rig.admin_url,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
        FAULT_DB,
    )
    return int(rows[0][0])  # type: ignore[call-overload]


@pytest.mark.slow
def test_pool_exhaustion_sheds_load_with_503_and_stays_live(rig: FaultRig) -> None:
    with rig.server(**POOL) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        user = signup_and_login(c)
        assert c.post("/tasks", json={"title": "t"}, headers=user.headers).status_code == 201

        with ThreadPoolExecutor(REQUESTS + 2) as pool:
            with rig.table_locked("task"):
                futures = [
                    pool.submit(timed, lambda: c.get("/tasks", headers=user.headers))
                    for _ in range(REQUESTS)
                ]
                # The slow requests are real: both connections wait on the lock in Postgres.
                wait_for(lambda: lock_waiters(rig) == CONNECTIONS, timeout=10, what="lock waits")
                done, pending = wait(futures, timeout=SHED_BOUND + 2)
                assert len(pending) == CONNECTIONS and len(done) == REQUESTS - CONNECTIONS
                for future in done:
                    response, elapsed = future.result()
                    assert response.status_code == 503, response.text
                    assert set(response.json()) == {"detail"}
                    assert int(response.headers["retry-after"]) >= 1
                    assert 0.9 <= elapsed < SHED_BOUND, elapsed  # waited DB_POOL_TIMEOUT
                for _ in range(3):
                    assert_live(c)
                health, elapsed = timed(lambda: c.get("/health"))
                assert health.status_code == 503 and elapsed < SHED_BOUND
                time.sleep(0.2)
            # The lock is released: the two slow requests finish normally.
            for future in pending:
                response, _ = future.result(timeout=10)
                assert response.status_code == 200, response.text

        assert c.get("/tasks", headers=user.headers).status_code == 200
        assert c.get("/health").status_code == 200
        assert "Traceback" not in server.log()
