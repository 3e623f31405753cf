"""Text Postgres or UTF-8 cannot hold (U+0000, unpaired surrogates) is 422, never 500."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.api.accounts import quick_user
from tests.api.errors import assert_error
from tests.support.users import PASSWORD, unique_email

BAD_TEXT = {"nul": "a\u0000b", "lone-surrogate": "a\ud800b"}


def _send(
    client: httpx.Client, method: str, url: str, body: object, headers: dict[str, str] | None = None
) -> httpx.Response:
    # json.dumps escapes both as \\u sequences; httpx's own encoder would refuse the surrogate.
    return client.request(
        method, url, content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )  # fmt: skip


@pytest.mark.parametrize("kind", list(BAD_TEXT))
@pytest.mark.parametrize("field", ["title", "description"])
def test_task_text_is_422(client: httpx.Client, database_url: str, field: str, kind: str) -> None:
    user = quick_user(client, database_url)
    body = {"title": "t", field: BAD_TEXT[kind]}
    assert_error(_send(client, "POST", "/tasks", body, user.headers), 422)
    task = client.post("/tasks", json={"title": "t"}, headers=user.headers).json()
    patch = {field: BAD_TEXT[kind]}
    assert_error(_send(client, "PATCH", f"/tasks/{task['id']}", patch, user.headers), 422)


@pytest.mark.parametrize("kind", list(BAD_TEXT))
def test_email_with_such_text_is_422(client: httpx.Client, kind: str) -> None:
    body = {"email": f"x{BAD_TEXT[kind]}@example.com", "password": PASSWORD}
    assert_error(_send(client, "POST", "/auth/signup", body), 422)


@pytest.mark.parametrize("kind", list(BAD_TEXT))
def test_password_with_such_text_is_never_a_server_error(client: httpx.Client, kind: str) -> None:
    # A NUL in a password is harmless to Argon2; either answer is fine, a 500 is not.
    body = {"email": unique_email(), "password": f"{BAD_TEXT[kind]}-long-enough"}
    response = _send(client, "POST", "/auth/signup", body)
    assert response.status_code in (201, 422), response.text
    login = _send(client, "POST", "/auth/login", body)
    assert login.status_code in ((200,) if response.status_code == 201 else (401, 422)), login.text


@pytest.mark.parametrize(
    ("raw_q", "status"), [("a%00b", 422), ("a%ED%A0%80b", 200), ("%FF", 200)],
    ids=["nul", "utf8-surrogate", "not-utf8"],
)  # fmt: skip
def test_search_text_that_is_not_storable_is_never_a_server_error(
    client: httpx.Client, database_url: str, raw_q: str, status: int
) -> None:
    user = quick_user(client, database_url)
    response = client.get(f"/tasks?q={raw_q}", headers=user.headers)
    assert response.status_code == status, response.text
    if status == 422:
        assert_error(response, 422)
