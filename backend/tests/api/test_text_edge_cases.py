"""Text Postgres or UTF-8 cannot hold (U+0000, unpaired surrogates) is 422, never 500."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.accounts import quick_user
from tests.support.errors import assert_error
from tests.support.users import PASSWORD, unique_email

# Request and answer behaviour only: served in this process (tests/conftest.py: client).
pytestmark = pytest.mark.in_process

BAD_TEXT = {"nul": "a\u0000b", "lone-surrogate": "a\ud800b"}


def _send(
    client: httpx.Client, method: str, url: str, body: object, headers: dict[str, str] | None = None
) -> httpx.Response:
    # json.dumps escapes both as \\u sequences; httpx's own encoder would refuse the surrogate.
    return client.request(
        method, url, content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )  # fmt: skip


def test_task_text_is_422(client: httpx.Client, database_url: str) -> None:
    user = quick_user(client, database_url)
    task = client.post("/tasks", json={"title": "t"}, headers=user.headers).json()
    for kind, text in BAD_TEXT.items():
        for field in ("title", "description"):
            created = _send(client, "POST", "/tasks", {"title": "t", field: text}, user.headers)
            assert created.status_code == 422, (kind, field, created.text)
            assert_error(created, 422)
            patched = _send(client, "PATCH", f"/tasks/{task['id']}", {field: text}, user.headers)
            assert patched.status_code == 422, (kind, field, patched.text)
            assert_error(patched, 422)


def test_email_with_such_text_is_422(client: httpx.Client) -> None:
    for text in BAD_TEXT.values():
        body = {"email": f"x{text}@example.com", "password": PASSWORD}
        assert_error(_send(client, "POST", "/auth/signup", body), 422)


def test_password_with_such_text_is_never_a_server_error(client: httpx.Client) -> None:
    # A NUL in a password is harmless to Argon2; either answer is fine, a 500 is not.
    for text in BAD_TEXT.values():
        body = {"email": unique_email(), "password": f"{text}-long-enough"}
        response = _send(client, "POST", "/auth/signup", body)
        assert response.status_code in (201, 422), response.text
        login = _send(client, "POST", "/auth/login", body)
        expected = (200,) if response.status_code == 201 else (401, 422)
        assert login.status_code in expected, login.text


def test_search_text_that_is_not_storable_is_never_a_server_error(
    client: httpx.Client, database_url: str
) -> None:
    user = quick_user(client, database_url)
    for raw_q, status in (("a%00b", 422), ("a%ED%A0%80b", 200), ("%FF", 200)):
        response = client.get(f"/tasks?q={raw_q}", headers=user.headers)
        assert response.status_code == status, (raw_q, response.text)
        if status == 422:
            assert_error(response, 422)
