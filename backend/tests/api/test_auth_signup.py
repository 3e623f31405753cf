"""POST /auth/signup: normalized emails, 409 on duplicates, 422 naming the field."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx

from tests.api.errors import assert_422_names, assert_error
from tests.support.database import query
from tests.support.server import Server
from tests.support.users import PASSWORD, unique_email


def test_signup_returns_the_public_user_and_stores_an_argon2_hash(
    client: httpx.Client, database_url: str, live_server: Server
) -> None:
    password = f"pw-{uuid.uuid4().hex}"
    response = client.post("/auth/signup", json={"email": "Ada@Example.COM", "password": password})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "email", "created_at"}
    assert body["email"] == "ada@example.com"
    uuid.UUID(body["id"])
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None
    [(stored_email, hashed)] = query(
        database_url, 'SELECT email, hashed_password FROM "user" WHERE id = %s', body["id"]
    )
    assert stored_email == "ada@example.com"
    assert isinstance(hashed, str) and hashed.startswith("$argon2id$")
    assert password not in hashed
    assert password not in live_server.log()


def test_second_signup_with_the_same_address_is_409(
    client: httpx.Client, database_url: str
) -> None:
    first = client.post("/auth/signup", json={"email": "Ada@example.com", "password": PASSWORD})
    assert first.status_code == 201
    for second in (
        "ada@example.com",
        "ADA@EXAMPLE.COM",
        "  ada@example.com  ",
        "\tAda@Example.com\n",
    ):
        again = client.post("/auth/signup", json={"email": second, "password": "another password"})
        assert "already" in assert_error(again, 409), second
    assert query(database_url, 'SELECT count(*) FROM "user"') == [(1,)]


def test_invalid_email_is_422_naming_email(client: httpx.Client) -> None:
    for email in ("not-an-email", "", "a@", "@example.com", "a b@example.com", None, 42):
        response = client.post("/auth/signup", json={"email": email, "password": PASSWORD})
        assert_422_names(response, "body", "email")


def test_short_password_is_422_naming_password(client: httpx.Client) -> None:
    for password in ("", "1234567", "Zq9x!"):
        response = client.post("/auth/signup", json={"email": unique_email(), "password": password})
        errors = assert_422_names(response, "body", "password")
        assert len(errors) == 1
        assert password == "" or password not in response.text


def test_password_of_exactly_8_characters_is_accepted(client: httpx.Client) -> None:
    response = client.post("/auth/signup", json={"email": unique_email(), "password": "12345678"})
    assert response.status_code == 201, response.text


def test_missing_fields_are_422_naming_each(client: httpx.Client) -> None:
    response = client.post("/auth/signup", json={})
    assert_422_names(response, "body", "email")
    assert_422_names(response, "body", "password")


def test_unknown_field_is_422(client: httpx.Client, database_url: str) -> None:
    response = client.post(
        "/auth/signup", json={"email": unique_email(), "password": PASSWORD, "is_admin": True}
    )
    assert_422_names(response, "body", "is_admin")
    assert query(database_url, 'SELECT count(*) FROM "user"') == [(0,)]


def test_malformed_json_is_422(client: httpx.Client) -> None:
    response = client.post(
        "/auth/signup", content=b'{"email": ', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 422)


def test_signup_errors_never_echo_the_password(client: httpx.Client) -> None:
    secret = "s3cr"  # too short, so it is rejected; must not come back in the body
    response = client.post("/auth/signup", json={"email": "bad", "password": secret})
    assert_error(response, 422)
    assert secret not in response.text
