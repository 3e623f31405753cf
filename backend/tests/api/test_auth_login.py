"""POST /auth/login: JSON and the OAuth2 password form; failures that all look alike."""

from __future__ import annotations

import statistics
import time

import httpx

from tests.support.accounts import quick_user
from tests.support.errors import assert_401, assert_422_names, assert_error
from tests.support.server import Server
from tests.support.users import PASSWORD, signup_and_login, unique_email


def _assert_token(response: httpx.Response, client: httpx.Client, email: str) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "device_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 60 * 60  # JWT_EXPIRE_MINUTES default
    me = client.get("/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == email


def test_login_with_json(client: httpx.Client, database_url: str) -> None:
    user = quick_user(client, database_url)
    response = client.post("/auth/login", json={"email": user.email, "password": PASSWORD})
    _assert_token(response, client, user.email)


def test_login_with_the_oauth2_password_form(client: httpx.Client, database_url: str) -> None:
    user = quick_user(client, database_url)
    form = {"grant_type": "password", "username": user.email, "password": PASSWORD, "scope": ""}
    response = client.post("/auth/login", data=form)
    _assert_token(response, client, user.email)


def test_login_email_is_compared_without_case_or_whitespace(
    client: httpx.Client, database_url: str
) -> None:
    user = quick_user(client, database_url)
    shouted = f"  {user.email.upper()} "
    _assert_token(
        client.post("/auth/login", json={"email": shouted, "password": PASSWORD}),
        client,
        user.email,
    )
    _assert_token(
        client.post("/auth/login", data={"username": shouted, "password": PASSWORD}),
        client,
        user.email,
    )


def test_password_is_case_sensitive(client: httpx.Client, database_url: str) -> None:
    user = quick_user(client, database_url)
    response = client.post("/auth/login", json={"email": user.email, "password": PASSWORD.upper()})
    assert_401(response)


def test_unknown_email_and_wrong_password_get_the_same_401(
    client: httpx.Client, database_url: str, live_server: Server
) -> None:
    user = quick_user(client, database_url)
    wrong = client.post("/auth/login", json={"email": user.email, "password": "wrong password"})
    unknown = client.post("/auth/login", json={"email": unique_email(), "password": PASSWORD})
    form_wrong = client.post("/auth/login", data={"username": user.email, "password": "nope"})
    assert_401(wrong)
    assert_401(unknown)
    assert_401(form_wrong)
    assert wrong.content == unknown.content == form_wrong.content
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"]
    for password in ("wrong password", "nope", PASSWORD):
        assert password not in live_server.log()


def test_unknown_email_costs_about_as_much_as_a_wrong_password(client: httpx.Client) -> None:
    # The account must carry a production-cost hash, so it is signed up through the API.
    user = signup_and_login(client)
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(3):  # interleaved, so a burst of load on the machine hits both alike
        for kind in times:
            email = user.email if kind == "known" else unique_email("ghost")
            start = time.perf_counter()
            response = client.post("/auth/login", json={"email": email, "password": f"bad{i}"})
            times[kind].append(time.perf_counter() - start)
            assert response.status_code == 401
    known, unknown = (statistics.median(t) for t in times.values())
    # Generous: without the dummy verification the unknown path is 10-100x faster.
    assert unknown > known / 3, times
    assert known > unknown / 3, times


def test_missing_json_fields_are_422_naming_them(client: httpx.Client) -> None:
    for body in ({}, {"email": "a@example.com"}, {"password": PASSWORD}):
        response = client.post("/auth/login", json=body)
        for field in {"email", "password"} - set(body):
            assert_422_names(response, "body", field)


def test_unknown_json_field_is_422(client: httpx.Client, database_url: str) -> None:
    user = quick_user(client, database_url)
    response = client.post(
        "/auth/login", json={"email": user.email, "password": PASSWORD, "remember": True}
    )
    assert_422_names(response, "body", "remember")


def test_form_without_password_is_422(client: httpx.Client) -> None:
    response = client.post("/auth/login", data={"username": "a@example.com"})
    assert_422_names(response, "body", "password")


def test_body_that_is_not_a_credentials_object_is_422(client: httpx.Client) -> None:
    for content in (b"", b"{not json", b"[]", b'"text"', b"null"):
        response = client.post(
            "/auth/login", content=content, headers={"Content-Type": "application/json"}
        )
        assert_error(response, 422)


def test_repeated_failures_for_one_email_are_throttled(
    client: httpx.Client, database_url: str
) -> None:
    user = quick_user(client, database_url)
    for _ in range(10):  # LOGIN_MAX_FAILURES default
        assert (
            client.post("/auth/login", json={"email": user.email, "password": "x"}).status_code
            == 401
        )
    # Now even the right password waits: guessing cannot continue at full speed.
    blocked = client.post("/auth/login", json={"email": user.email, "password": PASSWORD})
    assert_error(blocked, 429)
    assert int(blocked.headers["retry-after"]) > 0
    # Another account from the same client is not locked out by someone else's failures.
    other = quick_user(client, database_url)
    assert other.token
