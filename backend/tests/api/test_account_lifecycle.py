"""Password change and log-out everywhere: both revoke every earlier token; token answers are
never cached; an account deleted and signed up again does not revive its old tokens."""

from __future__ import annotations

import httpx
import pytest

from tests.support.accounts import bearer, quick_user
from tests.support.errors import assert_401, assert_422_names, assert_error
from tests.support.users import PASSWORD, UserSession, unique_email

# Request and answer behaviour only: served in this process (tests/conftest.py: client).
pytestmark = pytest.mark.in_process

NEW_PASSWORD = "a brand new correct horse"
PROTECTED = (("GET", "/users/me"), ("GET", "/tasks"), ("POST", "/auth/logout-all"))


def login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/auth/login", json={"email": email, "password": password})


def change(client: httpx.Client, token: str, current: str, new: str) -> httpx.Response:
    return client.post(
        "/users/me/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(token),
    )


def assert_not_cached(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store", response.headers
    assert response.headers["pragma"] == "no-cache"


def assert_revoked(client: httpx.Client, token: str) -> None:
    for method, path in PROTECTED:
        assert_401(client.request(method, path, headers=bearer(token)))


def second_session(client: httpx.Client, user: UserSession) -> str:
    response = login(client, user.email, user.password)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_a_password_change_revokes_every_earlier_token_and_returns_a_new_one(
    client: httpx.Client, database_url: str
) -> None:
    user = quick_user(client, database_url)
    other_device = second_session(client, user)
    response = change(client, user.token, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 200, response.text
    assert_not_cached(response)
    assert set(response.json()) == {"access_token", "token_type", "expires_in", "device_token"}
    new_token = response.json()["access_token"]

    assert_revoked(client, user.token)
    assert_revoked(client, other_device)
    assert client.get("/users/me", headers=bearer(new_token)).status_code == 200
    assert_401(login(client, user.email, PASSWORD))
    assert login(client, user.email, NEW_PASSWORD).status_code == 200


def test_a_password_change_needs_the_current_password(
    client: httpx.Client, database_url: str
) -> None:
    user = quick_user(client, database_url)
    response = change(client, user.token, "not the password", NEW_PASSWORD)
    assert assert_error(response, 403) == "The current password is incorrect"
    # Nothing changed: the token still works and the old password still logs in.
    assert client.get("/users/me", headers=user.headers).status_code == 200
    assert login(client, user.email, PASSWORD).status_code == 200
    assert_401(change(client, "not-a-token", PASSWORD, NEW_PASSWORD))


def test_the_new_password_is_validated_like_a_sign_up_password(
    client: httpx.Client, database_url: str
) -> None:
    user = quick_user(client, database_url)
    for new in ("short7!", "x" * 129):
        assert_422_names(change(client, user.token, PASSWORD, new), "body", "new_password")
    missing = client.post("/users/me/password", json={}, headers=user.headers)
    assert_422_names(missing, "body", "current_password")
    assert_422_names(missing, "body", "new_password")
    extra = client.post(
        "/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "email": "x@y.z"},
        headers=user.headers,
    )
    assert_422_names(extra, "body", "email")
    assert login(client, user.email, PASSWORD).status_code == 200  # nothing changed


def test_wrong_current_passwords_are_limited_per_account(
    client: httpx.Client, database_url: str
) -> None:
    # LOGIN_MAX_FAILURES (10) at full speed; the 11th is checked too and makes the next one
    # wait 1 s (progressive delay), so the 12th, sent at once, is 429 even with the right one.
    user = quick_user(client, database_url)
    for attempt in range(11):
        response = change(client, user.token, f"wrong {attempt}", NEW_PASSWORD)
        assert response.status_code == 403, (attempt, response.text)
    refused = change(client, user.token, PASSWORD, NEW_PASSWORD)
    assert assert_error(refused, 429) == "Too many password change attempts; try again later"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert login(client, user.email, PASSWORD).status_code == 200  # unchanged


def test_log_out_everywhere_revokes_every_token_of_the_caller_only(
    client: httpx.Client, database_url: str
) -> None:
    user = quick_user(client, database_url)
    other_device = second_session(client, user)
    bystander = quick_user(client, database_url)

    response = client.post("/auth/logout-all", headers=user.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert_revoked(client, user.token)
    assert_revoked(client, other_device)
    assert_401(change(client, user.token, PASSWORD, NEW_PASSWORD))
    assert client.get("/users/me", headers=bystander.headers).status_code == 200
    # Logging in again gives a token that works.
    assert client.get("/tasks", headers=bearer(second_session(client, user))).status_code == 200


def test_token_answers_are_not_cached(client: httpx.Client, database_url: str) -> None:
    user = quick_user(client, database_url)
    assert_not_cached(login(client, user.email, PASSWORD))
    form = client.post("/auth/login", data={"username": user.email, "password": PASSWORD})
    assert form.status_code == 200
    assert_not_cached(form)
    cookie = form.headers["set-cookie"]
    assert cookie.startswith("aido_device=") and "HttpOnly" in cookie and "Path=/auth" in cookie
    assert "samesite=strict" in cookie.lower()


def test_the_old_token_of_an_account_deleted_and_signed_up_again_stays_401(
    client: httpx.Client,
) -> None:
    email = unique_email("again")
    first = client.post("/auth/signup", json={"email": email, "password": PASSWORD})
    assert first.status_code == 201
    old_token = login(client, email, PASSWORD).json()["access_token"]
    assert client.delete("/users/me", headers=bearer(old_token)).status_code == 204
    again = client.post("/auth/signup", json={"email": email, "password": PASSWORD})
    assert again.status_code == 201, again.text
    assert again.json()["id"] != first.json()["id"]
    new_token = login(client, email, PASSWORD).json()["access_token"]

    assert_revoked(client, old_token)
    assert_401(client.post("/tasks", json={"title": "t"}, headers=bearer(old_token)))
    assert client.get("/tasks", headers=bearer(new_token)).json()["items"] == []
    assert client.get("/users/me", headers=bearer(new_token)).json()["email"] == email
