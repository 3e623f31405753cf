"""Fault 1, cold start: a Neon compute takes seconds to accept connections after waking."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.fault_rig import FaultRig, timed, wait_for
from tests.support.users import signup_and_login, unique_email

HOLD = 3.0
# The first connection waits HOLD in the proxy, so connecting must be allowed longer.
COLD_ENV = {"DB_CONNECT_TIMEOUT": "5", "DB_RETRY_MAX_SECONDS": "10"}


@pytest.mark.slow
def test_backend_starts_against_a_waking_database(rig: FaultRig) -> None:
    rig.proxy.hold_new(HOLD)
    started = time.monotonic()
    with rig.server(**COLD_ENV) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        assert time.monotonic() - started >= HOLD  # start-up really went through the hold
        rig.proxy.hold_new(0)
        assert c.get("/health").json() == {"status": "healthy", "database": "connected"}
        signup_and_login(c)


@pytest.mark.slow
def test_first_requests_after_a_suspend_wait_for_the_wake_up(rig: FaultRig) -> None:
    with rig.server(**COLD_ENV) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        user = signup_and_login(c)
        assert c.post("/tasks", json={"title": "warm"}, headers=user.headers).status_code == 201

        # Suspended: the pool's connections are gone and the next ones take HOLD to open.
        rig.proxy.drop_all()
        rig.proxy.hold_new(HOLD)

        def create(i: int) -> httpx.Response:
            return c.post("/tasks", json={"title": f"cold-{i}"}, headers=user.headers)

        with ThreadPoolExecutor(4) as pool:
            (responses, elapsed) = timed(lambda: list(pool.map(create, range(4))))
        assert [r.status_code for r in responses] == [201] * 4, [r.text for r in responses]
        assert elapsed >= HOLD - 0.5, "the requests did not go through the cold start"
        assert elapsed < float(COLD_ENV["DB_RETRY_MAX_SECONDS"]) + 5  # within the budget

        signup = c.post("/auth/signup", json={"email": unique_email(), "password": "p" * 12})
        assert signup.status_code == 201
        rig.proxy.hold_new(0)
        wait_for(lambda: c.get("/health").status_code == 200, timeout=10, what="/health healthy")
        titles = sorted(str(t[1]) for t in rig.tasks())
        assert titles == sorted(["warm", *(f"cold-{i}" for i in range(4))])
