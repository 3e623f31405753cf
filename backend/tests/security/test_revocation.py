"""Revocation across workers and replicas: two server processes on one database, each with its
own cache of verified tokens. A token revoked through one is refused by the other within
TOKEN_REVOCATION_SECONDS of the answer, without a round trip per request otherwise."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.accounts import bearer, quick_user
from tests.support.errors import assert_401
from tests.support.server import Server, base_env, run_server
from tests.support.users import PASSWORD

BOUND = 2.0  # TOKEN_REVOCATION_SECONDS of both servers here


@pytest.fixture
def replicas(database_url: str, jwt_secret: str, log_dir: Path) -> Iterator[list[Server]]:
    env = base_env(DATABASE_URL=database_url, JWT_SECRET=jwt_secret,
                   TOKEN_REVOCATION_SECONDS=str(BOUND))  # fmt: skip
    with run_server(env, log_dir / "a") as a, run_server(env, log_dir / "b") as b:
        yield [a, b]


def answered_within_bound(c: httpx.Client, token: str, revoked_at: float) -> httpx.Response:
    """The first request sent once BOUND has passed since the revocation's answer."""
    time.sleep(max(0.0, revoked_at + BOUND - time.monotonic()) + 0.05)
    return c.get("/tasks", headers=bearer(token))


@pytest.mark.slow
@pytest.mark.parametrize("revoke", ["logout-all", "password change"])
def test_a_token_revoked_on_one_replica_is_refused_by_the_other_within_the_bound(
    replicas: list[Server], database_url: str, revoke: str
) -> None:
    a, b = replicas
    with (
        httpx.Client(base_url=a.url, timeout=30) as on_a,
        httpx.Client(base_url=b.url, timeout=30) as on_b,
    ):
        user = quick_user(on_a, database_url)
        # Both replicas have verified (and cached) the token, and kept answering it.
        for _ in range(3):
            assert on_a.get("/tasks", headers=user.headers).status_code == 200
            assert on_b.get("/tasks", headers=user.headers).status_code == 200

        if revoke == "logout-all":
            assert on_a.post("/auth/logout-all", headers=user.headers).status_code == 204
            new_token = None
        else:
            changed = on_a.post(
                "/users/me/password", headers=user.headers,
                json={"current_password": PASSWORD, "new_password": "another long password"},
            )  # fmt: skip
            assert changed.status_code == 200, changed.text
            new_token = changed.json()["access_token"]
        revoked_at = time.monotonic()

        assert_401(on_a.get("/tasks", headers=user.headers))  # the revoking replica: at once
        assert_401(answered_within_bound(on_b, user.token, revoked_at))
        assert_401(on_b.get("/users/me", headers=user.headers))
        if new_token:  # the new token works on both, at once
            assert on_b.get("/tasks", headers=bearer(new_token)).status_code == 200
            assert on_a.get("/tasks", headers=bearer(new_token)).status_code == 200
