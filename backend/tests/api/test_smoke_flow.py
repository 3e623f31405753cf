"""The whole flow a user walks, over real HTTP against a real Postgres."""

from __future__ import annotations

import httpx

from tests.support.users import signup_and_login


def test_signup_login_create_list_complete_delete(client: httpx.Client) -> None:
    user = signup_and_login(client)
    created = client.post("/tasks", json={"title": "Buy milk"}, headers=user.headers)
    assert created.status_code == 201
    task = created.json()
    listed = client.get("/tasks", headers=user.headers).json()
    assert [t["id"] for t in listed["items"]] == [task["id"]]
    done = client.post(f"/tasks/{task['id']}/complete", headers=user.headers)
    assert done.json()["completed"] is True
    assert client.delete(f"/tasks/{task['id']}", headers=user.headers).status_code == 204
    assert client.get("/tasks", headers=user.headers).json()["items"] == []
