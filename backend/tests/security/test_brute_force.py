"""Brute force: failed log-ins are limited per email and per client; success is not slowed."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.leaks import GUESSED_PASSWORD
from tests.support.server import Server, base_env, run_server
from tests.support.users import UserSession, signup_and_login, unique_email

LIMIT = 10  # LOGIN_MAX_FAILURES, the documented default the live server runs with
WINDOW = 60  # LOGIN_WINDOW_SECONDS


def login(c: httpx.Client, email: str, password: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = c.post("/auth/login", json={"email": email, "password": password})
    return response, time.monotonic() - started


def assert_throttled(response: httpx.Response, window: int) -> int:
    assert response.status_code == 429, response.text
    assert response.json() == {"detail": "Too many failed log-ins; try again later"}
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= window
    return retry_after


def test_ten_failures_for_one_email_then_429(client: httpx.Client) -> None:
    victim, bystander = signup_and_login(client), signup_and_login(client)
    normal = statistics.median(
        login(client, bystander.email, bystander.password)[1] for _ in range(3)
    )

    for attempt in range(LIMIT):
        response, _ = login(client, victim.email, f"{GUESSED_PASSWORD}{attempt}")
        assert response.status_code == 401, f"attempt {attempt + 1}: {response.text}"
    # The 11th in the window is refused before the password is even checked, right or not.
    assert_throttled(login(client, victim.email, GUESSED_PASSWORD)[0], WINDOW)
    assert_throttled(login(client, victim.email.upper(), victim.password)[0], WINDOW)

    # Nobody else is held back or slowed down: the limit is per email.
    for _ in range(3):
        response, elapsed = login(client, bystander.email, bystander.password)
        assert response.status_code == 200
        assert elapsed < normal * 3 + 0.5, f"success took {elapsed:.2f}s (normally {normal:.2f}s)"


def test_a_success_resets_the_count_and_is_not_delayed(client: httpx.Client) -> None:
    user = signup_and_login(client)
    normal = statistics.median(login(client, user.email, user.password)[1] for _ in range(3))
    for _ in range(LIMIT - 1):
        assert login(client, user.email, GUESSED_PASSWORD)[0].status_code == 401
    response, elapsed = login(client, user.email, user.password)
    assert response.status_code == 200
    assert elapsed < normal * 3 + 0.5, f"success after failures took {elapsed:.2f}s"
    # Counting starts again after a success: another LIMIT - 1 failures are still 401.
    for _ in range(LIMIT - 1):
        assert login(client, user.email, GUESSED_PASSWORD)[0].status_code == 401


@pytest.fixture
def strict_server(database_url: str, jwt_secret: str, log_dir: Path) -> Iterator[Server]:
    env = base_env(
        DATABASE_URL=database_url, JWT_SECRET=jwt_secret,
        LOGIN_MAX_FAILURES="3", LOGIN_MAX_FAILURES_PER_CLIENT="5", LOGIN_WINDOW_SECONDS="8",
    )  # fmt: skip
    with run_server(env, log_dir) as server:
        yield server


@pytest.mark.slow
def test_failures_from_one_client_across_emails_are_limited_then_expire(
    strict_server: Server,
) -> None:
    with httpx.Client(base_url=strict_server.url, timeout=30) as c:
        user: UserSession = signup_and_login(c)
        for i in range(5):  # 5 emails, 1 failure each: no email reaches its limit of 3
            assert login(c, unique_email("spray"), f"{GUESSED_PASSWORD}{i}")[0].status_code == 401
        response, _ = login(c, unique_email("spray"), GUESSED_PASSWORD)
        wait = assert_throttled(response, 8)
        time.sleep(wait + 0.2)
        # The window has passed: the same client logs in again, at normal speed.
        response, elapsed = login(c, user.email, user.password)
        assert response.status_code == 200, response.text
        assert elapsed < 2.0
