"""No public default secret: without JWT_SECRET every worker and replica signs with the one
secret generated for their database, and keeps it across restarts."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest

from tests.support.database import create_database, query
from tests.support.errors import assert_401
from tests.support.server import Server, base_env, run_server, wait_live
from tests.support.users import signup_and_login

# The development default that main used to sign with when JWT_SECRET was unset.
OLD_PUBLIC_SECRET = "dev-only-insecure-jwt-secret-do-not-deploy"


def token_works(server: Server, token: str) -> bool:
    with httpx.Client(base_url=server.url, timeout=30) as fresh_connection:
        response = fresh_connection.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code == 200


def login(server: Server, email: str, password: str) -> str:
    response = httpx.post(server.url + "/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.mark.slow
def test_replicas_started_at_once_share_one_generated_secret_and_a_restart_keeps_it(
    pg_admin_url: str, log_dir: Path
) -> None:
    url = create_database(pg_admin_url, f"aido_secret_{uuid.uuid4().hex[:8]}")  # not migrated
    env = base_env(DATABASE_URL=url)  # no JWT_SECRET
    with (
        run_server(env, log_dir / "a", wait=False) as a,
        run_server(env, log_dir / "b", wait=False) as b,
    ):
        for server in (a, b):
            wait_live(server.url, server.process, server.log_path, timeout=60)
        assert query(url, "SELECT count(*) FROM signing_secret") == [(1,)]
        logs = a.log() + b.log()
        assert logs.count("generated now") == 1 and logs.count("generated earlier") == 1, logs
        with httpx.Client(base_url=a.url, timeout=30) as c:
            user = signup_and_login(c)
        from_b = login(b, user.email, user.password)
        assert token_works(b, user.token) and token_works(a, from_b)

    with run_server(env, log_dir / "restarted") as restarted:
        assert token_works(restarted, user.token) and token_works(restarted, from_b)
        now = int(time.time())
        old_default = jwt.encode(
            {"sub": str(user.id), "iat": now, "exp": now + 600}, OLD_PUBLIC_SECRET
        )
        assert_401(httpx.get(restarted.url + "/users/me",
                             headers={"Authorization": f"Bearer {old_default}"}))  # fmt: skip


@pytest.mark.slow
def test_python_m_aido_with_two_workers_accepts_its_tokens_on_every_connection(
    pg_admin_url: str, log_dir: Path
) -> None:
    url = create_database(pg_admin_url, f"aido_workers_{uuid.uuid4().hex[:8]}")
    env = base_env(DATABASE_URL=url, WEB_CONCURRENCY="2", API_HOST="127.0.0.1")
    with run_server(env, log_dir, command=[sys.executable, "-m", "aido"]) as server:
        deadline = time.monotonic() + 30
        while server.log().count("generated ") < 2:  # both workers have started
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.2)
        log = server.log()
        assert log.count("generated now") == 1 and log.count("generated earlier") == 1, log
        with httpx.Client(base_url=server.url, timeout=30) as c:
            user = signup_and_login(c)
        # New connections are spread over both workers by the kernel: with two secrets, about
        # half of these would be 401.
        tokens = [user.token, *(login(server, user.email, user.password) for _ in range(3))]
        assert all(token_works(server, token) for token in tokens for _ in range(6))
