"""Quotas of POST /tasks (tasks held, creates per window) and the Idempotency-Key body rule.

The server here has small limits so they are reached in a few requests: 6 tasks per user,
4 creates per 3-second window.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.accounts import quick_user
from tests.support.database import query
from tests.support.server import Server, run_server
from tests.support.users import UserSession

MAX_TASKS = 6
CREATES = 4
WINDOW = 3


@pytest.fixture(scope="module")
def limited(server_env: dict[str, str], log_dir: Path) -> Iterator[Server]:
    env = {
        **server_env,
        "TASKS_MAX_PER_USER": str(MAX_TASKS),
        "TASK_CREATES_PER_WINDOW": str(CREATES),
        "TASK_CREATE_WINDOW_SECONDS": str(WINDOW),
    }
    with run_server(env, log_dir / "limited") as server:
        yield server


@pytest.fixture
def api(limited: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=limited.url, timeout=30) as c:
        yield c


@pytest.fixture
def user(api: httpx.Client, database_url: str) -> UserSession:
    return quick_user(api, database_url)


def _seed_tasks(database_url: str, owner: uuid.UUID, count: int) -> None:
    for i in range(count):
        query(database_url, "INSERT INTO task (id, owner_id, title) VALUES (%s, %s, %s)",
              uuid.uuid4(), owner, f"seeded {i}")  # fmt: skip


def _create(
    api: httpx.Client, user: UserSession, title: str = "Buy milk", **headers: str
) -> httpx.Response:
    return api.post("/tasks", json={"title": title}, headers={**user.headers, **headers})


def test_the_task_limit_is_409_until_a_task_is_deleted(
    api: httpx.Client, user: UserSession, database_url: str
) -> None:
    _seed_tasks(database_url, user.id, MAX_TASKS - 1)  # counted by the triggers of 0003
    last = _create(api, user)
    assert last.status_code == 201, last.text
    refused = _create(api, user)
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": f"Task limit reached: an account holds at most {MAX_TASKS} tasks; "
        "delete some first."
    }
    assert "retry-after" not in refused.headers  # waiting does not help
    assert query(database_url, "SELECT count(*) FROM task WHERE owner_id = %s", user.id) == [
        (MAX_TASKS,)
    ]
    assert api.delete(f"/tasks/{last.json()['id']}", headers=user.headers).status_code == 204
    assert _create(api, user).status_code == 201


def test_creates_over_the_window_are_429_with_retry_after_then_allowed_again(
    api: httpx.Client, user: UserSession
) -> None:
    for i in range(CREATES):
        assert _create(api, user, f"task {i}").status_code == 201
    refused = _create(api, user, "one too many")
    assert refused.status_code == 429
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= WINDOW
    assert refused.json()["detail"] == (
        f"Too many tasks created: at most {CREATES} per {WINDOW} s; retry in {retry_after} s."
    )
    time.sleep(retry_after + 0.2)
    assert _create(api, user, "after the window").status_code == 201


def test_concurrent_creates_cannot_overrun_the_window(
    api: httpx.Client, user: UserSession, database_url: str
) -> None:
    statuses: list[int] = []

    def create(i: int) -> None:
        with httpx.Client(base_url=str(api.base_url), timeout=30) as c:
            statuses.append(_create(c, user, f"racer {i}").status_code)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] * CREATES + [429] * (16 - CREATES)
    assert query(database_url, "SELECT count(*) FROM task WHERE owner_id = %s", user.id) == [
        (CREATES,)
    ]


def test_each_user_has_a_window_of_their_own(
    api: httpx.Client, user: UserSession, database_url: str
) -> None:
    for i in range(CREATES):
        assert _create(api, user, f"task {i}").status_code == 201
    other = quick_user(api, database_url)
    assert _create(api, other).status_code == 201


def test_the_count_follows_deletes_and_cascades(
    api: httpx.Client, user: UserSession, database_url: str
) -> None:
    _seed_tasks(database_url, user.id, 3)
    query(database_url, "DELETE FROM task WHERE owner_id = %s AND title = 'seeded 0'", user.id)
    assert query(database_url, "SELECT tasks FROM task_quota WHERE owner_id = %s", user.id) == [
        (2,)
    ]
    assert api.delete("/users/me", headers=user.headers).status_code == 204
    assert query(database_url, "SELECT count(*) FROM task_quota WHERE owner_id = %s", user.id) == [
        (0,)
    ]


# Idempotency-Key --------------------------------------------------------------------------
def test_the_same_key_and_body_replays_the_first_task(api: httpx.Client, user: UserSession) -> None:
    first = _create(api, user, "Buy milk", **{"Idempotency-Key": "k-1"})
    # The same task after validation: the title is trimmed, `completed` defaults to false.
    again = api.post("/tasks", json={"title": "  Buy milk ", "completed": False},
                     headers={**user.headers, "Idempotency-Key": "k-1"})  # fmt: skip
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"


def test_the_same_key_with_another_body_is_422(
    api: httpx.Client, user: UserSession, database_url: str
) -> None:
    assert _create(api, user, "Buy milk", **{"Idempotency-Key": "k-2"}).status_code == 201
    reused = _create(api, user, "Sell the cow", **{"Idempotency-Key": "k-2"})
    assert reused.status_code == 422
    assert reused.json() == {
        "detail": [
            {
                "loc": ["header", "idempotency-key"],
                "type": "idempotency_key_reused",
                "msg": "This Idempotency-Key was already used with a different body; "
                "use a new key for a new task",
            }
        ]
    }
    titles = query(database_url, "SELECT title FROM task WHERE owner_id = %s", user.id)
    assert titles == [("Buy milk",)]


def test_a_replay_is_answered_even_over_the_window(api: httpx.Client, user: UserSession) -> None:
    first = _create(api, user, "kept", **{"Idempotency-Key": "k-3"})
    for i in range(CREATES - 1):
        assert _create(api, user, f"task {i}").status_code == 201
    assert _create(api, user, "refused").status_code == 429
    replay = _create(api, user, "kept", **{"Idempotency-Key": "k-3"})
    assert replay.status_code == 201 and replay.json()["id"] == first.json()["id"]
