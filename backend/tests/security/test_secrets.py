"""Secrets: no password, JWT secret, metrics token or DATABASE_URL password in any response or
log line, in either log format.

Responses are checked as they arrive (conftest's `client`, the fuzz check). This module runs
last among the security tests, so its scan of the log directory covers every server the run
started: the live server, the fault servers of tests/reliability, and the ones started here
to provoke the log lines most likely to leak (a failed start-up on a wrong database password,
an outage at DEBUG level, failed log-ins, invalid sign-ups, a signing secret generated in the
database at DEBUG level), in text and in JSON (the image's format), where a secret would appear
JSON-escaped (leaks.spellings).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.security.leaks import GUESSED_PASSWORD, USER_PASSWORD, assert_no_leaks
from tests.support.database import create_database, migrate, query
from tests.support.metrics import METRICS_TOKEN
from tests.support.server import Server, base_env, run_server
from tests.support.tcp_proxy import TcpProxy
from tests.support.users import signup_and_login, unique_email

WRONG_DB_PASSWORD = "Wrong-Db-Pa55word-" + USER_PASSWORD[-8:]


def exercise(c: httpx.Client) -> None:
    """The requests whose handling is most likely to echo or log a credential."""
    user = signup_and_login(c, password=USER_PASSWORD)
    c.post("/auth/login", json={"email": user.email, "password": GUESSED_PASSWORD})
    c.post("/auth/login", data={"username": user.email, "password": GUESSED_PASSWORD})
    c.post("/auth/login", data={"username": user.email, "password": USER_PASSWORD})
    c.post("/auth/login", json={"email": "not-an-email", "password": USER_PASSWORD})
    c.post("/auth/signup", json={"email": user.email, "password": USER_PASSWORD})  # 409
    c.post("/auth/signup", json={"email": unique_email(), "password": USER_PASSWORD[:5]})
    c.post("/auth/signup", json={"email": unique_email(), "password": USER_PASSWORD * 9})
    c.post("/auth/signup", json={"email": unique_email(), "password": USER_PASSWORD, "x": 1})
    c.get("/users/me", headers=user.headers)
    c.get("/tasks", headers={"Authorization": f"Bearer {user.token}x"})


def test_responses_carry_no_secret(client: httpx.Client) -> None:
    exercise(client)  # every response is checked by the client's hook


def json_lines(log: str) -> list[dict[str, object]]:
    """Every line of a LOG_FORMAT=json log, parsed (one that is not JSON fails the test)."""
    return [json.loads(line) for line in log.splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_wrong_database_password_is_not_logged(
    database_url: str, jwt_secret: str, log_dir: Path, run_secrets: dict[str, str],
    log_format: str,
) -> None:  # fmt: skip
    url = make_url(database_url).set(password=WRONG_DB_PASSWORD)
    env = base_env(DATABASE_URL=url.render_as_string(hide_password=False), JWT_SECRET=jwt_secret,
                   DB_STARTUP_TIMEOUT="10", LOG_LEVEL="DEBUG", LOG_FORMAT=log_format)  # fmt: skip
    with run_server(env, log_dir, wait=False) as server:
        assert server.process.wait(timeout=60) == 3  # start-up failed, in one clear line
        log = server.log()
    assert "start-up failed" in log
    if log_format == "json":
        failed = [e for e in json_lines(log) if "start-up failed" in str(e["message"])]
        assert [e["level"] for e in failed] == ["CRITICAL"]
    assert_no_leaks(server.log_path.name, [log], {**run_secrets, "wrong": WRONG_DB_PASSWORD})


@pytest.mark.slow
def test_an_outage_at_debug_level_logs_no_secret(
    database_url: str, jwt_secret: str, log_dir: Path, run_secrets: dict[str, str]
) -> None:
    target = make_url(database_url)
    with TcpProxy(target.host or "127.0.0.1", int(target.port or 5432)) as proxy:
        proxied = target.set(host="127.0.0.1", port=proxy.port)
        # JSON, as the image logs, with /metrics on: both must hold no secret.
        env = base_env(DATABASE_URL=proxied.render_as_string(hide_password=False),
                       JWT_SECRET=jwt_secret, LOG_LEVEL="DEBUG", DB_CONNECT_TIMEOUT="1",
                       DB_RETRY_MAX_SECONDS="1", LOG_FORMAT="json",
                       METRICS_TOKEN=METRICS_TOKEN)  # fmt: skip
        with run_server(env, log_dir) as server, httpx.Client(base_url=server.url) as c:
            exercise(c)
            user = signup_and_login(c, password=USER_PASSWORD)
            proxy.refuse()
            proxy.drop_all()
            for _ in range(2):
                assert (
                    c.post(
                        "/auth/login", json={"email": user.email, "password": USER_PASSWORD}
                    ).status_code
                    == 503
                )
                assert (
                    c.post("/tasks", json={"title": "t"}, headers=user.headers).status_code == 503
                )
            assert c.get("/health").status_code == 503
            metrics = c.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            assert metrics.status_code == 200
            proxy.restore()
            log = server.log()
    entries = json_lines(log)
    assert any("database unavailable" in str(e["message"]) for e in entries)  # logged
    assert any(e["logger"] == "aido.access" for e in entries)
    assert_no_leaks("/metrics", [metrics.text], run_secrets)
    assert_no_leaks(f"{server.log_path.name}", [log], run_secrets)


@pytest.mark.slow
def test_a_generated_signing_secret_is_never_logged_or_answered(
    pg_admin_url: str, log_dir: Path, run_secrets: dict[str, str]
) -> None:
    url = create_database(pg_admin_url, f"aido_gen_secret_{uuid.uuid4().hex[:8]}")
    migrate(url)
    env = base_env(DATABASE_URL=url, LOG_LEVEL="DEBUG")  # no JWT_SECRET: the database's
    with run_server(env, log_dir) as server:
        [(generated,)] = query(url, "SELECT secret FROM signing_secret")
        assert isinstance(generated, str) and len(generated) >= 64
        watched = {**run_secrets, "generated JWT secret": generated}

        def check(response: httpx.Response) -> None:
            response.read()
            assert_no_leaks(f"the response to {response.request.url.path}",
                            [response.text, str(response.headers)], watched)  # fmt: skip

        with httpx.Client(base_url=server.url, timeout=30, event_hooks={"response": [check]}) as c:
            exercise(c)
            user = signup_and_login(c, password=USER_PASSWORD)
            c.post(
                "/users/me/password",
                headers=user.headers,
                json={"current_password": USER_PASSWORD, "new_password": GUESSED_PASSWORD},
            )
            c.post("/auth/logout-all", headers=user.headers)  # fmt: skip
        log = server.log()
    assert "signing tokens with the secret stored in the database (generated now" in log
    assert_no_leaks(f"log {server.log_path.name}", [log], watched)


def test_no_log_of_the_run_holds_a_secret(
    live_server: Server, log_dir: Path, run_secrets: dict[str, str]
) -> None:
    logs = sorted(log_dir.glob("*.log"))
    assert live_server.log_path in logs
    for path in logs:
        assert_no_leaks(f"log {path.name}", [path.read_text(errors="replace")], run_secrets)
    print(f"scanned {len(logs)} server logs")
