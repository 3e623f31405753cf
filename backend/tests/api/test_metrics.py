"""/metrics: off without METRICS_TOKEN, bearer-only with it; requests by route template,
method and status; refusals by reason; the pool's figures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.accounts import quick_user
from tests.support.metrics import METRICS_TOKEN, scrape, total, value
from tests.support.server import Server, run_server

DURATION_COUNT = "aido_http_request_duration_seconds_count"


@pytest.fixture(scope="module")
def metrics_server(server_env: dict[str, str], log_dir: Path) -> Iterator[Server]:
    env = {**server_env, "METRICS_TOKEN": METRICS_TOKEN, "LOGIN_MAX_FAILURES": "2",
           "DB_POOL_SIZE": "3", "DB_MAX_OVERFLOW": "4"}  # fmt: skip
    with run_server(env, log_dir / "metrics") as server:
        yield server


@pytest.fixture
def mclient(metrics_server: Server, database_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=metrics_server.url, timeout=30) as c:
        yield c


def test_without_a_token_there_is_no_metrics_path(client: httpx.Client) -> None:
    answer = client.get("/metrics")
    assert answer.status_code == 404 and set(answer.json()) == {"detail"}
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {METRICS_TOKEN}"])
def test_metrics_need_the_token_as_a_bearer(
    mclient: httpx.Client, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = mclient.get("/metrics", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert set(answer.json()) == {"detail"} and "aido_" not in answer.text


def test_a_short_metrics_token_is_refused_at_start_up(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    with run_server({**server_env, "METRICS_TOKEN": "short-token"}, tmp_path, wait=False) as s:
        assert s.process.wait(timeout=30) == 2
        log = s.log()
    assert "configuration error: METRICS_TOKEN is shorter than 32 bytes" in log
    assert "short-token" not in log


def test_requests_are_counted_by_route_template_method_and_status(
    mclient: httpx.Client, metrics_server: Server, database_url: str
) -> None:
    user = quick_user(mclient, database_url)
    before = scrape(metrics_server.url)
    for _ in range(3):
        assert mclient.get(f"/tasks/{uuid.uuid4()}", headers=user.headers).status_code == 404
    for _ in range(2):
        assert mclient.get("/users/me").status_code == 401
    mclient.get(f"/no/such/{uuid.uuid4()}")
    after = scrape(metrics_server.url)

    def added(**labels: str) -> float:
        return value(after, DURATION_COUNT, **labels) - value(before, DURATION_COUNT, **labels)

    assert added(method="GET", route="/tasks/{task_id}", status="404") == 3
    assert added(method="GET", route="/users/me", status="401") == 2
    assert added(method="GET", route="unmatched", status="404") == 1
    # Every series is a route template: no id, no query string ever becomes a label value.
    routes = {dict(labels)["route"] for (name, labels) in after if name == DURATION_COUNT}
    assert all(r == "unmatched" or r.startswith(("/tasks", "/users", "/auth", "/health",
                                                 "/metrics")) for r in routes), routes  # fmt: skip
    assert not any(len(r) > 40 for r in routes), routes
    # The histogram's buckets add up to its count.
    labels = {"method": "GET", "route": "/users/me", "status": "401"}
    assert value(after, "aido_http_request_duration_seconds_bucket", le="+Inf", **labels) == (
        value(after, DURATION_COUNT, **labels)
    )


def test_refusals_are_counted_by_reason(
    mclient: httpx.Client, metrics_server: Server, database_url: str
) -> None:
    user = quick_user(mclient, database_url)
    before = scrape(metrics_server.url)
    wrong = {"email": user.email, "password": "not the password"}
    statuses = [mclient.post("/auth/login", json=wrong).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]  # LOGIN_MAX_FAILURES=2
    too_large = mclient.post("/tasks", content=b"x" * 70_000, headers=user.headers)
    assert too_large.status_code == 413
    after = scrape(metrics_server.url)
    for reason in ("login_throttled", "body_too_large"):
        grown = value(after, "aido_refusals_total", reason=reason) - value(
            before, "aido_refusals_total", reason=reason
        )
        assert grown == 1, reason
    # Every reason is a series from the start, at 0 until it happens.
    assert total(after, "aido_refusals_total") >= 2
    assert ("aido_refusals_total", frozenset({("reason", "task_limit")})) in after


def test_the_pool_figures_are_reported(mclient: httpx.Client, metrics_server: Server) -> None:
    assert mclient.get("/health").status_code == 200  # at least one connection is open
    samples = scrape(metrics_server.url)
    assert value(samples, "aido_db_pool_max_connections") == 3 + 4
    open_connections = total(samples, "aido_db_pool_connections")
    assert 1 <= open_connections <= 7
    # The scrape's own worker read its pool as it answered: no request holds a connection.
    assert value(samples, "aido_db_pool_connections", state="in_use") == 0
    assert value(samples, "aido_db_pool_waiting_requests") == 0
    assert value(samples, "aido_db_pool_overflow_connections") == 0
    # One process: prometheus_client's own process figures come along.
    assert value(samples, "process_cpu_seconds_total") > 0
