"""Argon2 cannot starve the API: sign-ups are limited per client, hashes run under a bound
(beyond it: a short wait, then 503 with Retry-After) on background-priority threads."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.errors import assert_error
from tests.support.server import Server, base_env, run_server
from tests.support.users import PASSWORD, unique_email


def signup(server: Server, address: str) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        return c.post(
            "/auth/signup",
            json={"email": unique_email("limit"), "password": PASSWORD},
            headers={"X-Forwarded-For": address},
        )


@pytest.fixture
def three_signups(database_url: str, jwt_secret: str, log_dir: Path) -> Iterator[Server]:
    env = base_env(DATABASE_URL=database_url, JWT_SECRET=jwt_secret, SIGNUP_MAX_PER_CLIENT="3",
                   SIGNUP_WINDOW_SECONDS="600")  # fmt: skip
    with run_server(env, log_dir) as server:
        yield server


@pytest.mark.slow
def test_signups_are_limited_per_client_address(three_signups: Server) -> None:
    for _ in range(3):
        assert signup(three_signups, "198.51.100.20").status_code == 201
    started = time.monotonic()
    refused = signup(three_signups, "198.51.100.20")
    detail = assert_error(refused, 429)
    assert detail == "Too many sign-ups from this address; try again later"
    assert 500 < int(refused.headers["retry-after"]) <= 600
    # Refused before any hash, and held about a second (REFUSAL_DELAY_SECONDS): a flood that
    # ignores Retry-After gets few answers a second per connection.
    assert 0.9 < time.monotonic() - started < 5
    assert signup(three_signups, "198.51.100.21").status_code == 201  # another client


@pytest.fixture
def one_hash_at_a_time(database_url: str, jwt_secret: str, log_dir: Path) -> Iterator[Server]:
    env = base_env(
        DATABASE_URL=database_url, JWT_SECRET=jwt_secret,
        PASSWORD_HASH_CONCURRENCY="1", PASSWORD_HASH_MAX_WAIT_SECONDS="0.05",
    )  # fmt: skip
    with run_server(env, log_dir) as server:
        yield server


def thread_priorities(pid: int) -> list[tuple[int, int]]:
    """(nice, scheduling policy) of each thread of the process."""
    values = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        values.append((int(fields[16]), int(fields[38])))  # stat fields 19 and 41
    return values


@pytest.mark.slow
def test_hashes_beyond_the_bound_wait_briefly_then_get_503_on_background_threads(
    one_hash_at_a_time: Server,
) -> None:
    server = one_hash_at_a_time
    statuses: Counter[int] = Counter()
    shed: list[httpx.Response] = []
    barrier = threading.Barrier(6)

    def attempt(n: int) -> None:
        barrier.wait()
        response = signup(server, f"198.51.100.{30 + n}")  # 6 clients: no sign-up limit
        statuses[response.status_code] += 1
        if response.status_code == 503:
            shed.append(response)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # One hash at a time (~0.2 s each) and 0.05 s of waiting for it: most are shed.
    assert set(statuses) <= {201, 503}, statuses
    assert statuses[201] >= 1 and statuses[503] >= 1, statuses
    for response in shed:
        detail = assert_error(response, 503)
        assert detail == "Too many password checks at once; retry later."
        assert response.headers["retry-after"] == "1"
    # The hashing thread (there is one: the bound) is at nice 10 and starts each hash under
    # SCHED_IDLE (it stays there unless a hash ran past PROMOTE_AFTER_SECONDS); the event
    # loop's thread is untouched.
    threads = thread_priorities(server.process.pid)
    hashing = [policy for nice, policy in threads if nice == 10]
    assert len(hashing) == 1 and hashing[0] in (os.SCHED_IDLE, os.SCHED_OTHER), threads
    assert (0, os.SCHED_OTHER) in threads, threads
