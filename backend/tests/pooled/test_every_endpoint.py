"""Every endpoint, through PgBouncer in transaction mode, concurrently and often enough for
psycopg to prepare its statements (it does after 5 executions on a connection): 0 errors."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from aido.testing.pgbouncer import PgBouncer
from tests.support.database import libpq, query
from tests.support.server import Server
from tests.support.users import PASSWORD, unique_email

THREADS = 4
USERS_PER_THREAD = 2
ROUNDS_PER_USER = 6  # each task statement runs more than psycopg's prepare threshold (5)


class Walk:
    """Calls the API and records each endpoint it reached as (METHOD, path template), with
    every answer that was not the one expected."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.reached: set[tuple[str, str]] = set()
        self.wrong: list[str] = []
        self.lock = threading.Lock()

    def call(
        self, expect: int, method: str, template: str, *, headers: dict[str, str] | None = None,
        **kwargs: object,
    ) -> httpx.Response:  # fmt: skip
        path = template.format(**{k: v for k, v in kwargs.items() if k == "task_id"})
        sent = {k: v for k, v in kwargs.items() if k != "task_id"}
        response = self.client.request(method, path, headers=headers, **sent)  # type: ignore[arg-type]
        with self.lock:
            self.reached.add((method, template))
            if response.status_code != expect:
                self.wrong.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response

    def user_lifecycle(self) -> None:
        """One user from sign-up to account deletion, touching every endpoint on the way."""
        email = unique_email("pooled")
        creds = {"email": email, "password": PASSWORD}
        self.call(201, "POST", "/auth/signup", json=creds)
        self.call(409, "POST", "/auth/signup", json=creds)
        self.call(401, "POST", "/auth/login", json={**creds, "password": "not the password"})
        login = self.call(200, "POST", "/auth/login", json=creds)
        if login.status_code != 200:
            return  # recorded; the rest of this user's walk needs the token
        token = login.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        for round_ in range(ROUNDS_PER_USER):
            self.call(200, "GET", "/users/me", headers=auth)
            created = self.call(
                201,
                "POST",
                "/tasks",
                headers=auth,
                json={"title": f"milk {round_}", "description": "2 litres"},
            )
            if created.status_code != 201:
                continue  # recorded; the verbs below need the task
            task = created.json()
            key = {**auth, "Idempotency-Key": f"k-{uuid.uuid4()}"}
            self.call(201, "POST", "/tasks", headers=key, json={"title": f"keyed {round_}"})
            self.call(201, "POST", "/tasks", headers=key, json={"title": f"keyed {round_}"})
            page = self.call(200, "GET", "/tasks", headers=auth, params={"limit": 2})
            cursor = page.json()["next_cursor"] if page.status_code == 200 else None
            self.call(200, "GET", "/tasks", headers=auth, params={"limit": 2, "cursor": cursor})
            self.call(
                200,
                "GET",
                "/tasks",
                headers=auth,
                params={"q": "milk", "completed": "false", "sort": "title", "order": "asc"},
            )
            self.call(200, "GET", "/tasks/{task_id}", task_id=task["id"], headers=auth)
            self.call(
                200,
                "PATCH",
                "/tasks/{task_id}",
                task_id=task["id"],
                headers=auth,
                json={"title": f"oat milk {round_}"},
            )
            self.call(200, "POST", "/tasks/{task_id}/complete", task_id=task["id"], headers=auth)
            self.call(200, "POST", "/tasks/{task_id}/reopen", task_id=task["id"], headers=auth)
            self.call(204, "DELETE", "/tasks/{task_id}", task_id=task["id"], headers=auth)
            self.call(404, "GET", "/tasks/{task_id}", task_id=task["id"], headers=auth)
            self.call(200, "GET", "/health")
            self.call(200, "GET", "/health/live")
        # One server process: the worker that revokes refuses the old token at once.
        change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        changed = self.call(200, "POST", "/users/me/password", headers=auth, json=change)
        self.call(401, "GET", "/users/me", headers=auth)
        if changed.status_code != 200:
            return  # recorded; the rest needs the new token
        auth = {"Authorization": f"Bearer {changed.json()['access_token']}"}
        self.call(204, "POST", "/auth/logout-all", headers=auth)
        self.call(401, "GET", "/users/me", headers=auth)
        again = self.call(200, "POST", "/auth/login", json={**creds, "password": NEW_PASSWORD})
        if again.status_code != 200:
            return
        auth = {"Authorization": f"Bearer {again.json()['access_token']}"}
        self.call(204, "DELETE", "/users/me", headers=auth)
        self.call(401, "GET", "/users/me", headers=auth)


NEW_PASSWORD = "a new password, as long as the old"


def operations(client: httpx.Client) -> set[tuple[str, str]]:
    schema = client.get("/openapi.json").json()
    return {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}


@pytest.mark.slow
def test_every_endpoint_answers_without_error_through_the_pooler(
    pooled_client: httpx.Client, pooled_server: Server, pooled_db_url: str
) -> None:
    walk = Walk(pooled_client)
    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(walk.user_lifecycle) for _ in range(THREADS * USERS_PER_THREAD)]:
            future.result()

    assert not walk.wrong, f"{len(walk.wrong)} unexpected answers: {walk.wrong[:5]}"
    assert operations(pooled_client) - walk.reached == set(), "endpoints the walk missed"
    # Every account was deleted with its tasks; nothing was left half-done.
    assert query(pooled_db_url, 'SELECT count(*) FROM "user"') == [(0,)]
    assert query(pooled_db_url, "SELECT count(*) FROM task") == [(0,)]
    log = pooled_server.log()
    assert "Traceback" not in log
    assert "unhandled" not in log


def test_the_pooler_hands_server_connections_over_between_transactions(
    pooler: PgBouncer, pooled_db_url: str
) -> None:
    """The suite's pooler really is transaction pooling (the mode that breaks session state):
    a server connection goes back to the pool when a transaction ends, and the next client's
    transaction gets it, while the first client stays connected."""
    conninfo = libpq(pooler.url(pooled_db_url))
    with psycopg.connect(conninfo, autocommit=True) as first, psycopg.connect(conninfo) as second:
        served_first = first.execute("SELECT pg_backend_pid()").fetchone()
        served_second = second.execute("SELECT pg_backend_pid()").fetchone()  # opens a transaction
        assert served_second == served_first
        # Held by the second client's open transaction, the server connection is not the
        # first client's any more: its next statement runs on another one.
        assert first.execute("SELECT pg_backend_pid()").fetchone() != served_first
        second.rollback()
    # What the client is told at connect (BackendKeyData) is not a server's pid: the app's
    # DB_PREPARED_STATEMENTS=auto relies on that to tell a pooler from a direct connection.
    with psycopg.connect(conninfo, autocommit=True) as client:
        announced = client.info.backend_pid
        assert client.execute("SELECT pg_backend_pid()").fetchone() != (announced,)
    direct = make_url(pooled_db_url).render_as_string(hide_password=False)
    with psycopg.connect(libpq(direct), autocommit=True) as client:
        assert client.execute("SELECT pg_backend_pid()").fetchone() == (client.info.backend_pid,)


def test_the_walk_records_an_unexpected_answer(pooled_client: httpx.Client) -> None:
    # Sanity of the walk itself: an answer that is not the expected one is recorded.
    walk = Walk(pooled_client)
    walk.call(200, "GET", "/tasks")
    assert Counter(w.split(":")[1].strip()[:3] for w in walk.wrong) == Counter(["401"])
