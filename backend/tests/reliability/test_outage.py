"""Fault 3, outage: the database is unreachable for a while, then comes back by itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.fault_rig import FAULT_ENV, FaultRig, assert_live, timed, wait_for
from tests.support.users import UserSession, signup_and_login

OUTAGE_SECONDS = 10.0
CONNECT_TIMEOUT = float(FAULT_ENV["DB_CONNECT_TIMEOUT"])
RETRY_BUDGET = float(FAULT_ENV["DB_RETRY_MAX_SECONDS"])
# /health: its own bound (DB_CONNECT_TIMEOUT + 0.5 s) plus scheduling slack.
HEALTH_BOUND = CONNECT_TIMEOUT + 1.5
# An API request: the retry budget, plus one connect attempt that may start just inside it.
API_BOUND = RETRY_BUDGET + CONNECT_TIMEOUT + 1.5


def api_calls(c: httpx.Client, user: UserSession, task_id: str) -> dict[str, Callable[[], object]]:
    h = user.headers
    creds = {"email": user.email, "password": user.password}
    return {
        "list": lambda: c.get("/tasks", headers=h),
        "create": lambda: c.post("/tasks", json={"title": "during"}, headers=h),
        "read": lambda: c.get(f"/tasks/{task_id}", headers=h),
        "patch": lambda: c.patch(f"/tasks/{task_id}", json={"title": "p"}, headers=h),
        "delete": lambda: c.delete(f"/tasks/{task_id}", headers=h),
        "me": lambda: c.get("/users/me", headers=h),
        "login": lambda: c.post("/auth/login", json=creds),
    }  # fmt: skip


def assert_unavailable(name: str, response: httpx.Response, elapsed: float) -> None:
    assert response.status_code == 503, f"{name}: {response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/json")
    assert set(response.json()) == {"detail"}, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert "Traceback" not in response.text
    assert elapsed < API_BOUND, f"{name} took {elapsed:.1f}s"


@pytest.mark.slow
def test_outage_answers_503_then_recovers_by_itself(rig: FaultRig) -> None:
    with rig.server() as server, httpx.Client(base_url=server.url, timeout=30) as c:
        user = signup_and_login(c)
        task_id = c.post("/tasks", json={"title": "before"}, headers=user.headers).json()["id"]

        rig.proxy.refuse()
        rig.proxy.drop_all()
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        rounds = 0
        with ThreadPoolExecutor(8) as pool:
            while time.monotonic() < outage_ends - API_BOUND or rounds == 0:
                rounds += 1
                health = pool.submit(timed, lambda: c.get("/health"))
                calls = {n: pool.submit(timed, f) for n, f in api_calls(c, user, task_id).items()}
                # While API requests wait out their retry budget, liveness answers at once.
                for _ in range(5):
                    assert_live(c)
                    time.sleep(0.2)
                response, elapsed = health.result()
                assert response.status_code == 503, response.text
                assert response.json() == {"status": "unhealthy", "database": "unavailable"}
                assert elapsed < HEALTH_BOUND, f"/health took {elapsed:.1f}s"
                for name, future in calls.items():
                    assert_unavailable(name, *future.result())
        time.sleep(max(0.0, outage_ends - time.monotonic()))

        rig.proxy.restore()
        wait_for(lambda: c.get("/health").status_code == 200, timeout=10, what="/health healthy")
        assert c.get(f"/tasks/{task_id}", headers=user.headers).json()["title"] == "before"
        assert c.post("/tasks", json={"title": "after"}, headers=user.headers).status_code == 201
        login = c.post("/auth/login", json={"email": user.email, "password": user.password})
        assert login.status_code == 200
        assert server.process.poll() is None  # recovered without a restart
        assert sorted(str(t[1]) for t in rig.tasks()) == ["after", "before"]
        log = server.log()
        assert "Traceback" not in log
        assert "database unavailable after" in log  # the outage was logged, in one line


@pytest.mark.slow
def test_a_database_that_hangs_is_bounded_too(rig: FaultRig) -> None:
    """Connections accepted but never answered (a black-holed network): no request hangs."""
    with rig.server() as server, httpx.Client(base_url=server.url, timeout=30) as c:
        user = signup_and_login(c)
        rig.proxy.blackhole(True)
        rig.proxy.drop_all()
        with ThreadPoolExecutor(4) as pool:
            health = pool.submit(timed, lambda: c.get("/health"))
            listing = pool.submit(timed, lambda: c.get("/tasks", headers=user.headers))
            create = pool.submit(
                timed, lambda: c.post("/tasks", json={"title": "x"}, headers=user.headers)
            )
            for _ in range(5):
                assert_live(c)
                time.sleep(0.2)
            response, elapsed = health.result()
            assert response.status_code == 503 and elapsed < HEALTH_BOUND, elapsed
            assert_unavailable("list", *listing.result())
            assert_unavailable("create", *create.result())
        rig.proxy.blackhole(False)
        rig.proxy.drop_all()
        wait_for(lambda: c.get("/health").status_code == 200, timeout=10, what="/health healthy")
        assert c.get("/tasks", headers=user.headers).status_code == 200


SHORT_OUTAGE = 5.0
WAITING_ENV = {"DB_RETRY_MAX_SECONDS": "10"}  # longer than SHORT_OUTAGE


@pytest.mark.slow
def test_requests_in_flight_wait_out_an_outage_shorter_than_the_budget(rig: FaultRig) -> None:
    """Connections refused for 5 s with a 10 s budget: every API request waits and succeeds
    (no 503), while /health keeps its own short bound and /health/live answers at once."""
    with rig.server(**WAITING_ENV) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        user = signup_and_login(c)
        h = user.headers
        read, patched, deleted = (
            c.post("/tasks", json={"title": t}, headers=h).json()["id"] for t in "abc"
        )
        creds = {"email": user.email, "password": user.password}
        calls: dict[str, tuple[int, Callable[[], httpx.Response]]] = {
            "list": (200, lambda: c.get("/tasks", headers=h)),
            "create": (201, lambda: c.post("/tasks", json={"title": "during"}, headers=h)),
            "read": (200, lambda: c.get(f"/tasks/{read}", headers=h)),
            "patch": (200, lambda: c.patch(f"/tasks/{patched}", json={"title": "p"}, headers=h)),
            "delete": (204, lambda: c.delete(f"/tasks/{deleted}", headers=h)),
            "me": (200, lambda: c.get("/users/me", headers=h)),
            "login": (200, lambda: c.post("/auth/login", json=creds)),
        }  # fmt: skip

        rig.proxy.refuse()
        rig.proxy.drop_all()
        with ThreadPoolExecutor(len(calls) + 1) as pool:
            futures = {name: pool.submit(timed, call) for name, (_, call) in calls.items()}
            health, health_elapsed = timed(lambda: c.get("/health"))
            assert_live(c)
            time.sleep(max(0.0, SHORT_OUTAGE - health_elapsed))
            rig.proxy.restore()
            for name, future in futures.items():
                response, elapsed = future.result()
                assert response.status_code == calls[name][0], f"{name}: {response.text}"
                assert elapsed >= SHORT_OUTAGE - 1, f"{name} did not wait ({elapsed:.1f}s)"
        assert health.status_code == 503 and health_elapsed < HEALTH_BOUND
        assert sorted(str(t[1]) for t in rig.tasks()) == ["a", "during", "p"]
        assert "Traceback" not in server.log()
