"""POST /auth/signup: normalized emails, 409 on duplicates, 422 naming the field."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx

from tests.support.accounts import _CHEAP_HASH
from tests.support.database import query
from tests.support.errors import assert_422_names, assert_error
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


def test_lookalike_emails_normalise_to_one_account(client: httpx.Client, database_url: str) -> None:
    # NFKC and case folding: fullwidth letters, the Kelvin sign and ß become ASCII.
    cases = {
        "ａｄａ@ｅｘａｍｐｌｅ.ｃｏｍ": "ada@example.com",
        "\u212aate@example.com": "kate@example.com",  # KELVIN SIGN
        "Straße@example.com": "strasse@example.com",
        "\u3000grace@example.com\u3000": "grace@example.com",  # ideographic spaces
    }
    for typed, stored in cases.items():
        created = client.post("/auth/signup", json={"email": typed, "password": PASSWORD})
        assert created.status_code == 201, (typed, created.text)
        assert created.json()["email"] == stored
        again = client.post("/auth/signup", json={"email": stored.upper(), "password": PASSWORD})
        assert "already" in assert_error(again, 409), stored
        login = client.post("/auth/login", json={"email": typed, "password": PASSWORD})
        assert login.status_code == 200, (typed, login.text)
    rows = query(database_url, 'SELECT email FROM "user" ORDER BY email')
    assert rows == [(e,) for e in sorted(cases.values())]


def test_emails_that_stay_non_ascii_after_normalisation_are_422(client: httpx.Client) -> None:
    # Each looks like an ASCII address (UTS #39 confusables) that could belong to someone else.
    for email in (
        "\u0131van@example.com",  # dotless ı
        "\u0130van@example.com",  # İ: folds to i + COMBINING DOT ABOVE
        "\u0430da@example.com",  # Cyrillic а
        "ada@b\u00fccher.de",  # an internationalised domain: its xn-- form is accepted
    ):
        response = client.post("/auth/signup", json={"email": email, "password": PASSWORD})
        [error] = assert_422_names(response, "body", "email")
        assert error["type"] == "email_not_ascii", email
        assert "ASCII" in error["msg"]


def test_an_existing_non_ascii_account_still_logs_in(
    client: httpx.Client, database_url: str
) -> None:
    # Made before sign-up required ASCII (stored normalised by migration 0002).
    query(
        database_url,
        """INSERT INTO "user" (id, email, hashed_password) VALUES (%s, %s, %s)""",
        uuid.uuid4(), "josé@example.com", _CHEAP_HASH,
    )  # fmt: skip
    login = client.post("/auth/login", json={"email": "JOSÉ@example.com", "password": PASSWORD})
    assert login.status_code == 200, login.text


def test_the_length_limit_applies_to_the_normalised_email(client: httpx.Client) -> None:
    # NFKC can make an address longer: 62 "㎉" (SQUARE KCAL) are 74 characters as typed and
    # 260 ("kcal" each) as stored, over the 254 an address may have (RFC 5321).
    too_long = "\u3389" * 62 + "@example.com"
    response = client.post("/auth/signup", json={"email": too_long, "password": PASSWORD})
    assert_422_names(response, "body", "email")
    fits = "\u3389" * 60 + "@example.com"  # 252 characters once normalised
    created = client.post("/auth/signup", json={"email": fits, "password": PASSWORD})
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "kcal" * 60 + "@example.com"
