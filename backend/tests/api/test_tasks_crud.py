"""Create, read, update, complete, reopen and delete one task; every validation error."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.support.accounts import quick_user
from tests.support.database import query
from tests.support.errors import assert_422_names, assert_error
from tests.support.task_verbs import on_a_task
from tests.support.users import UserSession

# Request and answer behaviour only: served in this process (tests/conftest.py: client).
pytestmark = pytest.mark.in_process

TASK_KEYS = {"id", "title", "description", "completed", "created_at", "updated_at"}


@pytest.fixture
def user(client: httpx.Client, database_url: str) -> UserSession:
    return quick_user(client, database_url)


def _create(client: httpx.Client, user: UserSession, **body: Any) -> dict[str, Any]:
    response = client.post("/tasks", json={"title": "Buy milk", **body}, headers=user.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


# create ------------------------------------------------------------------------------------
def test_create_returns_the_task_with_defaults(client: httpx.Client, user: UserSession) -> None:
    task = _create(client, user)
    assert set(task) == TASK_KEYS
    uuid.UUID(task["id"])
    assert (task["title"], task["description"], task["completed"]) == ("Buy milk", None, False)
    assert task["created_at"] == task["updated_at"]
    assert client.get(f"/tasks/{task['id']}", headers=user.headers).json() == task


def test_create_with_every_field(client: httpx.Client, user: UserSession) -> None:
    task = _create(client, user, description="2 litres", completed=True)
    assert (task["description"], task["completed"]) == ("2 litres", True)


def test_title_is_trimmed(client: httpx.Client, user: UserSession, database_url: str) -> None:
    task = _create(client, user, title="  \t Buy milk \n ")
    assert task["title"] == "Buy milk"
    assert query(database_url, "SELECT title FROM task WHERE id = %s", task["id"]) == [
        ("Buy milk",)
    ]


def test_bad_title_is_422_naming_title(
    client: httpx.Client, user: UserSession, database_url: str
) -> None:
    for title in ("", "   ", "\t\n", "x" * 201, "é" * 201):
        response = client.post("/tasks", json={"title": title}, headers=user.headers)
        assert_422_names(response, "body", "title")
    assert query(database_url, "SELECT count(*) FROM task") == [(0,)]


def test_title_of_200_characters_is_accepted(client: httpx.Client, user: UserSession) -> None:
    for title in ("x" * 200, "é" * 200, "🙂" * 200, "  " + "x" * 200 + "  "):
        assert _create(client, user, title=title)["title"] == title.strip()


def test_description_length(client: httpx.Client, user: UserSession) -> None:
    assert _create(client, user, description="é" * 2000)["description"] == "é" * 2000
    too_long = client.post(
        "/tasks", json={"title": "t", "description": "d" * 2001}, headers=user.headers
    )
    assert_422_names(too_long, "body", "description")


def test_unknown_fields_are_422(client: httpx.Client, user: UserSession, database_url: str) -> None:
    for extra, value in (("owner_id", str(uuid.uuid4())), ("id", str(uuid.uuid4())),
                         ("priority", 1)):  # fmt: skip
        response = client.post("/tasks", json={"title": "t", extra: value}, headers=user.headers)
        assert_422_names(response, "body", extra)
    assert query(database_url, "SELECT count(*) FROM task") == [(0,)]


def test_wrong_types_are_422(client: httpx.Client, user: UserSession) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "title"), ({"title": None}, "title"), ({"title": 5}, "title"),
        ({"title": "t", "completed": "maybe"}, "completed"),
        ({"title": "t", "description": 5}, "description"),
    ]  # fmt: skip
    for body, field in cases:
        response = client.post("/tasks", json=body, headers=user.headers)
        assert_422_names(response, "body", field)


def test_body_over_the_limit_is_413(client: httpx.Client, user: UserSession) -> None:
    response = client.post(
        "/tasks", json={"title": "t", "description": "d" * 70_000}, headers=user.headers
    )
    assert_error(response, 413)


# ids ---------------------------------------------------------------------------------------
def test_invalid_ids_are_422_on_every_verb(client: httpx.Client, user: UserSession) -> None:
    for bad_id in ("not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"):
        for response in on_a_task(client, bad_id, user.headers):
            assert_422_names(response, "path", "task_id")


def test_unknown_ids_are_404_on_every_verb(client: httpx.Client, user: UserSession) -> None:
    for response in on_a_task(client, uuid.uuid4(), user.headers):
        assert assert_error(response, 404) == "Task not found"


# update ------------------------------------------------------------------------------------
def test_patch_changes_only_the_fields_sent(client: httpx.Client, user: UserSession) -> None:
    task = _create(client, user, description="2 litres")
    time.sleep(0.01)
    patched = client.patch(
        f"/tasks/{task['id']}", json={"title": " Oat milk "}, headers=user.headers
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["title"], body["description"], body["completed"]) == (
        "Oat milk",
        "2 litres",
        False,
    )
    assert body["created_at"] == task["created_at"]
    assert _ts(body["updated_at"]) > _ts(task["updated_at"])
    assert client.get(f"/tasks/{task['id']}", headers=user.headers).json() == body


def test_patch_without_a_real_change_keeps_updated_at(
    client: httpx.Client, user: UserSession
) -> None:
    task = _create(client, user, description="d")
    url = f"/tasks/{task['id']}"
    for body in ({}, {"title": "Buy milk"}, {"title": "  Buy milk  "}, {"description": "d"},
                 {"completed": False}, {"title": "Buy milk", "completed": False}):  # fmt: skip
        response = client.patch(url, json=body, headers=user.headers)
        assert response.status_code == 200, response.text
        assert response.json() == task, body


def test_patch_description_null_clears_it(client: httpx.Client, user: UserSession) -> None:
    task = _create(client, user, description="2 litres")
    body = client.patch(
        f"/tasks/{task['id']}", json={"description": None}, headers=user.headers
    ).json()
    assert body["description"] is None
    assert body["title"] == "Buy milk"
    assert _ts(body["updated_at"]) > _ts(task["updated_at"])


def test_invalid_patch_is_422_and_changes_nothing(client: httpx.Client, user: UserSession) -> None:
    task = _create(client, user, description="2 litres")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"title": None}, "title"), ({"completed": None}, "completed"),
        ({"title": None, "description": "new"}, "title"), ({"title": ""}, "title"),
        ({"title": "  "}, "title"), ({"title": "x" * 201}, "title"),
        ({"description": "d" * 2001}, "description"), ({"owner_id": "x"}, "owner_id"),
        ({"completed": "yes please"}, "completed"),
    ]  # fmt: skip
    for body, field in cases:
        response = client.patch(f"/tasks/{task['id']}", json=body, headers=user.headers)
        assert_422_names(response, "body", field)
        assert client.get(f"/tasks/{task['id']}", headers=user.headers).json() == task, body


def test_complete_and_reopen(client: httpx.Client, user: UserSession) -> None:
    task = _create(client, user)
    url = f"/tasks/{task['id']}"
    done = client.post(f"{url}/complete", headers=user.headers)
    assert done.status_code == 200
    assert done.json()["completed"] is True
    assert _ts(done.json()["updated_at"]) > _ts(task["updated_at"])
    # Completing twice is not a change.
    assert client.post(f"{url}/complete", headers=user.headers).json() == done.json()
    reopened = client.post(f"{url}/reopen", headers=user.headers).json()
    assert reopened["completed"] is False
    assert _ts(reopened["updated_at"]) > _ts(done.json()["updated_at"])
    assert client.post(f"{url}/reopen", headers=user.headers).json() == reopened
    via_patch = client.patch(url, json={"completed": True}, headers=user.headers).json()
    assert via_patch["completed"] is True


# delete ------------------------------------------------------------------------------------
def test_delete_is_204_then_404(client: httpx.Client, user: UserSession, database_url: str) -> None:
    task = _create(client, user)
    keep = _create(client, user, title="keep")
    url = f"/tasks/{task['id']}"
    response = client.delete(url, headers=user.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert_error(client.get(url, headers=user.headers), 404)
    assert_error(client.delete(url, headers=user.headers), 404)
    assert query(database_url, "SELECT id::text FROM task") == [(keep["id"],)]


# idempotency -------------------------------------------------------------------------------
def test_idempotency_key_replays_the_first_task(
    client: httpx.Client, user: UserSession, database_url: str
) -> None:
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    first = client.post("/tasks", json={"title": "once"}, headers={**user.headers, **key})
    again = client.post("/tasks", json={"title": "once"}, headers={**user.headers, **key})
    assert first.status_code == again.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    other_key = client.post(
        "/tasks", json={"title": "once"}, headers={**user.headers, "Idempotency-Key": "other"}
    )
    no_key = client.post("/tasks", json={"title": "once"}, headers=user.headers)
    assert len({first.json()["id"], other_key.json()["id"], no_key.json()["id"]}) == 3
    assert query(database_url, "SELECT count(*) FROM task") == [(3,)]


def test_idempotency_keys_are_per_user(
    client: httpx.Client, user: UserSession, database_url: str
) -> None:
    other = quick_user(client, database_url)
    key = {"Idempotency-Key": "shared-key"}
    mine = client.post("/tasks", json={"title": "mine"}, headers={**user.headers, **key})
    theirs = client.post("/tasks", json={"title": "theirs"}, headers={**other.headers, **key})
    assert "idempotent-replayed" not in theirs.headers
    assert theirs.json()["title"] == "theirs"
    assert mine.json()["id"] != theirs.json()["id"]


def test_bad_idempotency_key_is_422(client: httpx.Client, user: UserSession) -> None:
    for key in ("", "k" * 201):
        response = client.post(
            "/tasks", json={"title": "t"}, headers={**user.headers, "Idempotency-Key": key}
        )
        assert_422_names(response, "header", "idempotency-key")
