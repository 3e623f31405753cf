"""Access: another user's task is 404 on every verb; every kind of bad token is 401."""

from __future__ import annotations

import base64
import json
import time
import uuid

import httpx
import jwt
import pytest

from tests.support.database import query
from tests.support.task_verbs import ON_A_TASK
from tests.support.users import UserSession, signup_and_login

ALL_ENDPOINTS = [
    ("GET", "/tasks", None),
    ("POST", "/tasks", {"title": "t"}),
    *ON_A_TASK,
    ("GET", "/users/me", None),
    ("DELETE", "/users/me", None),
]


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(user_id: uuid.UUID | str, *, age: int = 0, ttl: int = 600) -> dict[str, object]:
    now = int(time.time()) - age
    return {"sub": str(user_id), "iat": now, "exp": now + ttl}


def bad_tokens(victim: UserSession, secret: str) -> dict[str, str]:
    header, payload, signature = victim.token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    other_payload = b64(claims(uuid.uuid4()))
    return {
        "signature tampered": f"{header}.{payload}.{flipped}",
        "payload tampered": f"{header}.{other_payload}.{signature}",
        "expired": jwt.encode(claims(victim.id, age=7200, ttl=60), secret, algorithm="HS256"),
        "other secret": jwt.encode(claims(victim.id), "x" * 48, algorithm="HS256"),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims(victim.id))}.",
        "alg HS512": jwt.encode(claims(victim.id), secret, algorithm="HS512"),
        "no exp": jwt.encode({"sub": str(victim.id), "iat": int(time.time())}, secret),
        "sub not a uuid": jwt.encode(claims("admin"), secret, algorithm="HS256"),
        "unknown user": jwt.encode(claims(uuid.uuid4()), secret, algorithm="HS256"),
        "garbage": "not-a-jwt",
        "empty": "",
    }


def call(c: httpx.Client, method: str, path: str, body: object, token: str | None, task: str):
    headers = {} if token is None else {"Authorization": f"Bearer {token}".strip()}
    return c.request(method, path.format(id=task), json=body, headers=headers)


def assert_401(response: httpx.Response, what: str) -> None:
    assert response.status_code == 401, f"{what}: {response.status_code} {response.text}"
    assert response.json() == {"detail": "Could not validate credentials"}, what
    assert response.headers["www-authenticate"] == "Bearer", what


def snapshot(database_url: str) -> list[tuple[object, ...]]:
    return query(database_url, "SELECT id, owner_id, title, completed, updated_at FROM task")


def test_another_users_task_is_404_on_every_verb(client: httpx.Client, database_url: str) -> None:
    owner, intruder = signup_and_login(client), signup_and_login(client)
    task = client.post("/tasks", json={"title": "private"}, headers=owner.headers).json()
    before = snapshot(database_url)
    missing = str(uuid.uuid4())
    for method, path, body in ON_A_TASK:
        theirs = call(client, method, path, body, intruder.token, task["id"])
        nobodys = call(client, method, path, body, intruder.token, missing)
        assert theirs.status_code == 404, f"{method} {path}: {theirs.text}"
        # Exactly the answer for a task that does not exist: nothing tells it exists.
        assert theirs.json() == nobodys.json() == {"detail": "Task not found"}
    assert snapshot(database_url) == before
    listed = client.get("/tasks", params={"q": "private"}, headers=intruder.headers).json()
    assert listed["items"] == []
    # The same Idempotency-Key from another user creates that user's own task.
    key = {"Idempotency-Key": "shared-key"}
    mine = client.post("/tasks", json={"title": "a"}, headers={**owner.headers, **key}).json()
    other = client.post("/tasks", json={"title": "b"}, headers={**intruder.headers, **key})
    assert other.status_code == 201 and other.json()["id"] != mine["id"]
    assert other.json()["title"] == "b"


def test_bad_tokens_are_401_on_every_endpoint(
    client: httpx.Client, database_url: str, jwt_secret: str
) -> None:
    victim = signup_and_login(client)
    task = client.post("/tasks", json={"title": "kept"}, headers=victim.headers).json()
    before = snapshot(database_url)
    tokens: dict[str, str | None] = {"missing": None, **bad_tokens(victim, jwt_secret)}
    for kind, token in tokens.items():
        for method, path, body in ALL_ENDPOINTS:
            assert_401(
                call(client, method, path, body, token, task["id"]), f"{kind} {method} {path}"
            )
    assert snapshot(database_url) == before
    assert client.get("/users/me", headers=victim.headers).status_code == 200  # still there


def test_token_of_a_deleted_user_is_401_on_every_endpoint(
    client: httpx.Client, database_url: str
) -> None:
    gone = signup_and_login(client)
    task = client.post("/tasks", json={"title": "t"}, headers=gone.headers).json()
    assert client.delete("/users/me", headers=gone.headers).status_code == 204
    for method, path, body in ALL_ENDPOINTS:
        assert_401(call(client, method, path, body, gone.token, task["id"]), f"{method} {path}")
    assert snapshot(database_url) == []  # and the POST did not create an orphan task


@pytest.mark.parametrize("scheme", ["Basic", "Token", "bearer"])
def test_other_schemes_are_401(client: httpx.Client, scheme: str) -> None:
    user = signup_and_login(client)
    response = client.get("/tasks", headers={"Authorization": f"{scheme} {user.token}"})
    if scheme == "bearer":  # the scheme is case-insensitive (RFC 7235)
        assert response.status_code == 200
    else:
        assert_401(response, scheme)
