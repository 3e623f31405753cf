"""Log-in limits that hold under concurrency and cannot be turned against the account's owner.

Clients are told apart by address: the suite's server trusts X-Forwarded-For from 127.0.0.1
(uvicorn's default FORWARDED_ALLOW_IPS), so a header stands for another client. Each client
here has its own httpx.Client, so cookies (the device token) stay with the client that got them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.accounts import quick_user
from tests.support.leaks import GUESSED_PASSWORD
from tests.support.server import Server, base_env, run_server
from tests.support.users import PASSWORD

LIMIT = 10  # LOGIN_MAX_FAILURES, the default the suite's server runs with
OWNER, ATTACKER = "198.51.100.7", "203.0.113.9"


def client_at(server: Server, address: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=60, headers={"X-Forwarded-For": address})


def login(c: httpx.Client, email: str, password: str, **extra: str) -> httpx.Response:
    return c.post("/auth/login", json={"email": email, "password": password, **extra})


def test_concurrent_wrong_passwords_get_at_most_the_limit_checked(
    live_server: Server, database_url: str
) -> None:
    with client_at(live_server, ATTACKER) as c:
        victim = quick_user(c, database_url)
    statuses: Counter[int] = Counter()
    barrier = threading.Barrier(40)

    def attempt(i: int) -> None:
        with client_at(live_server, ATTACKER) as c:
            barrier.wait()
            statuses[login(c, victim.email, f"{GUESSED_PASSWORD}{i}").status_code] += 1

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Counted before the hash, atomically: exactly LIMIT are admitted (401, or 503 when every
    # Argon2 slot stayed busy), however many race; the rest are refused unchecked.
    assert statuses[401] + statuses[503] == LIMIT, statuses
    assert statuses[429] == 40 - LIMIT, statuses


@pytest.fixture
def small_limits(database_url: str, jwt_secret: str, log_dir: Path) -> Iterator[Server]:
    """2 failures per (email, address) and per device; 3 per email in the hour."""
    env = base_env(DATABASE_URL=database_url, JWT_SECRET=jwt_secret, LOGIN_MAX_FAILURES="2",
                   LOGIN_MAX_FAILURES_PER_EMAIL="3")  # fmt: skip
    with run_server(env, log_dir) as server:
        yield server


@pytest.mark.slow
def test_an_attack_on_the_email_does_not_lock_out_a_device_that_logged_in_before(
    small_limits: Server, database_url: str
) -> None:
    server = small_limits
    with client_at(server, OWNER) as owner:
        user = quick_user(owner, database_url)  # logs in: the device token is now a cookie
        assert owner.cookies.get("aido_device")
        device_token = login(owner, user.email, PASSWORD).json()["device_token"]

    # The attacker uses up the email's allowance for clients it has not seen log in.
    with client_at(server, ATTACKER) as attacker:
        assert [login(attacker, user.email, f"x{i}").status_code for i in range(3)] == [
            401, 401, 429,  # 2 per (email, address)
        ]  # fmt: skip
    with client_at(server, "203.0.113.10") as attacker:
        assert login(attacker, user.email, "x").status_code == 401  # the email's 3rd
    with client_at(server, "203.0.113.11") as attacker:
        refused = login(attacker, user.email, "x")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 3000  # until the hour's window ends
    # A new device of the owner is refused as well: that is what the hour's limit is for ...
    with client_at(server, "192.0.2.44") as new_device:
        assert login(new_device, user.email, PASSWORD).status_code == 429

    # ... but the device that logged in before is counted on its own: a typo is a plain 401.
    with client_at(server, OWNER) as owner:
        owner.cookies.set("aido_device", device_token)
        assert login(owner, user.email, "a typo").status_code == 401
        assert login(owner, user.email, PASSWORD).status_code == 200
    # The device token works from any address, sent in the body by a client without cookies.
    with client_at(server, ATTACKER) as app:
        assert login(app, user.email, PASSWORD, device_token=device_token).status_code == 200
    # A device token of another account, or a forged one, is no device token.
    with client_at(server, OWNER) as stranger:
        other = quick_user(stranger, database_url)
        other_token = login(stranger, other.email, PASSWORD).json()["device_token"]
    with client_at(server, OWNER) as c:
        assert login(c, user.email, PASSWORD, device_token=other_token).status_code == 429
        assert login(c, user.email, PASSWORD, device_token="forged.token.x").status_code == 429


def test_failures_for_one_email_from_many_addresses_are_spaced_out_progressively(
    live_server: Server, database_url: str
) -> None:
    with client_at(live_server, OWNER) as c:
        user = quick_user(c, database_url)

    def from_address(n: int, password: str = "wrong") -> httpx.Response:
        with client_at(live_server, f"10.1.0.{n}") as c:
            return login(c, user.email, password)

    for n in range(LIMIT):  # one failure per address: no per-address limit is reached
        assert from_address(n).status_code == 401
    assert from_address(LIMIT).status_code == 401  # checked, and the next must wait 1 s
    first = from_address(LIMIT + 1, PASSWORD)
    assert first.status_code == 429 and first.headers["retry-after"] == "1", first.headers
    time.sleep(1.1)
    assert from_address(LIMIT + 2).status_code == 401  # checked, and the next waits 2 s
    second = from_address(LIMIT + 3, PASSWORD)
    assert second.status_code == 429 and second.headers["retry-after"] == "2", second.headers
    time.sleep(2.1)
    assert from_address(LIMIT + 4, PASSWORD).status_code == 200  # the owner gets in


@pytest.fixture
def strict_servers(database_url: str, jwt_secret: str, log_dir: Path) -> Iterator[list[Server]]:
    """One server that trusts X-Forwarded-For from 127.0.0.1 (the default), one that trusts
    it from a proxy that is not us; both allow 3 failures per client."""
    common = {"DATABASE_URL": database_url, "JWT_SECRET": jwt_secret,
              "LOGIN_MAX_FAILURES_PER_CLIENT": "3"}  # fmt: skip
    with (
        run_server(base_env(**common, FORWARDED_ALLOW_IPS="127.0.0.1"), log_dir) as trusting,
        run_server(base_env(**common, FORWARDED_ALLOW_IPS="10.255.255.254"), log_dir) as other,
    ):
        yield [trusting, other]


@pytest.mark.slow
def test_x_forwarded_for_counts_only_from_a_configured_proxy(
    strict_servers: list[Server],
) -> None:
    trusting, untrusting = strict_servers

    def spray(server: Server) -> list[int]:
        """4 failures on 4 emails, each claiming another address."""
        codes = []
        for n in range(4):
            with client_at(server, f"10.2.{id(server) % 200}.{n}") as c:
                codes.append(login(c, f"spray{n}-{server.port}@example.com", "x").status_code)
        return codes

    # Through a trusted proxy each address is its own client: no per-client limit is reached.
    assert spray(trusting) == [401, 401, 401, 401]
    # From a peer that is not a configured proxy the header is ignored: one client, limited.
    assert spray(untrusting) == [401, 401, 401, 429]
