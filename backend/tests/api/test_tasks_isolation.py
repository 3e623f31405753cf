"""Two users: neither can see, change or delete the other's tasks, nor learn that they exist."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.accounts import quick_user
from tests.support.database import query
from tests.support.errors import assert_error
from tests.support.task_verbs import on_a_task

# Request and answer behaviour only: served in this process (tests/conftest.py: client).
pytestmark = pytest.mark.in_process


def test_another_users_task_is_404_on_every_verb_exactly_like_a_missing_one(
    client: httpx.Client, database_url: str
) -> None:
    alice = quick_user(client, database_url)
    bob = quick_user(client, database_url)
    task = client.post(
        "/tasks", json={"title": "alice's secret", "description": "d"}, headers=alice.headers
    ).json()
    before = client.get(f"/tasks/{task['id']}", headers=alice.headers).json()

    def attempts(task_id: str) -> list[httpx.Response]:
        empty_patch = client.patch(f"/tasks/{task_id}", json={}, headers=bob.headers)
        return [empty_patch, *on_a_task(client, task_id, bob.headers)]

    for theirs, missing in zip(attempts(task["id"]), attempts(str(uuid.uuid4())), strict=True):
        assert_error(theirs, 404)  # never 403: that would confirm the task exists
        assert (theirs.status_code, theirs.content) == (missing.status_code, missing.content)
        assert dict(theirs.headers).keys() == dict(missing.headers).keys()

    assert client.get(f"/tasks/{task['id']}", headers=alice.headers).json() == before
    assert query(database_url, "SELECT owner_id FROM task") == [(alice.id,)]


def test_lists_and_search_show_only_the_callers_tasks(
    client: httpx.Client, database_url: str
) -> None:
    alice = quick_user(client, database_url)
    bob = quick_user(client, database_url)
    for i in range(3):
        client.post("/tasks", json={"title": f"alice {i} shared"}, headers=alice.headers)
    bobs = client.post("/tasks", json={"title": "bob shared"}, headers=bob.headers).json()

    def titles(user_headers: dict[str, str], **params: str) -> list[str]:
        page = client.get("/tasks", params=params, headers=user_headers).json()
        return sorted(item["title"] for item in page["items"])

    assert titles(bob.headers) == ["bob shared"]
    assert titles(bob.headers, q="alice") == []
    assert titles(bob.headers, q="shared", completed="false") == ["bob shared"]
    assert titles(alice.headers, q="shared") == [f"alice {i} shared" for i in range(3)]
    assert "bob" not in str(titles(alice.headers, sort="title", order="asc"))
    assert client.get(f"/tasks/{bobs['id']}", headers=bob.headers).status_code == 200


def test_a_cursor_from_one_user_shows_another_nothing_of_the_first(
    client: httpx.Client, database_url: str
) -> None:
    alice = quick_user(client, database_url)
    bob = quick_user(client, database_url)
    for i in range(3):
        client.post("/tasks", json={"title": f"a{i}"}, headers=alice.headers)
    client.post("/tasks", json={"title": "b"}, headers=bob.headers)
    cursor = client.get("/tasks?limit=1", headers=alice.headers).json()["next_cursor"]
    page = client.get("/tasks", params={"cursor": cursor}, headers=bob.headers).json()
    assert all(item["title"] == "b" for item in page["items"])


def test_idempotency_key_of_another_user_does_not_replay_their_task(
    client: httpx.Client, database_url: str
) -> None:
    alice = quick_user(client, database_url)
    bob = quick_user(client, database_url)
    key = {"Idempotency-Key": "same-key"}
    client.post("/tasks", json={"title": "alice's"}, headers={**alice.headers, **key})
    response = client.post("/tasks", json={"title": "bob's"}, headers={**bob.headers, **key})
    assert response.status_code == 201
    assert response.json()["title"] == "bob's"
    assert "idempotent-replayed" not in response.headers
