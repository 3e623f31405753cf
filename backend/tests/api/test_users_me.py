"""GET and DELETE /users/me; deleting the account deletes its tasks and nobody else's."""

from __future__ import annotations

import httpx
import pytest

from tests.support.accounts import quick_user
from tests.support.database import query
from tests.support.errors import assert_401
from tests.support.users import PASSWORD

# Request and answer behaviour only: served in this process (tests/conftest.py: client).
pytestmark = pytest.mark.in_process


def test_me_is_the_caller(client: httpx.Client, database_url: str) -> None:
    user = quick_user(client, database_url)
    other = quick_user(client, database_url)
    body = client.get("/users/me", headers=user.headers).json()
    assert set(body) == {"id", "email", "created_at"}  # never the hash
    assert (body["id"], body["email"]) == (str(user.id), user.email)
    assert client.get("/users/me", headers=other.headers).json()["id"] == str(other.id)


def test_delete_me_cascades_to_the_tasks_only_of_that_account(
    client: httpx.Client, database_url: str
) -> None:
    user = quick_user(client, database_url)
    other = quick_user(client, database_url)
    for i in range(3):
        client.post("/tasks", json={"title": f"mine {i}"}, headers=user.headers)
    client.post("/tasks", json={"title": "theirs"}, headers=other.headers)
    count = "SELECT count(*) FROM task WHERE owner_id = %s"
    assert query(database_url, count, user.id) == [(3,)]

    assert client.delete("/users/me", headers=user.headers).status_code == 204

    assert query(database_url, count, user.id) == [(0,)]
    assert query(database_url, 'SELECT count(*) FROM "user" WHERE id = %s', user.id) == [(0,)]
    assert query(database_url, count, other.id) == [(1,)]
    assert_401(client.get("/users/me", headers=user.headers))
    assert len(client.get("/tasks", headers=other.headers).json()["items"]) == 1
    # The old password no longer opens anything, and the address is free again.
    gone = client.post("/auth/login", json={"email": user.email, "password": PASSWORD})
    assert_401(gone)
    again = client.post("/auth/signup", json={"email": user.email, "password": PASSWORD})
    assert again.status_code == 201
    assert again.json()["id"] != str(user.id)


def test_me_requires_a_token(client: httpx.Client) -> None:
    assert_401(client.get("/users/me"))
    assert_401(client.delete("/users/me"))
