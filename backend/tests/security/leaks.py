"""What must never appear in a response body or a log line, and the check for it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable

from sqlalchemy.engine import make_url

from tests.support.metrics import METRICS_TOKEN
from tests.support.users import PASSWORD

# Passwords the security tests send, right or wrong: none may be echoed or logged.
GUESSED_PASSWORD = "Guessed-Pa55word-never-logged"
# The password of the accounts the secrets test makes: random, so a hit cannot be chance.
USER_PASSWORD = "pw-" + secrets.token_urlsafe(18)
HASH_MARKER = "$argon2"  # a stored password hash


def secrets_of_run(*, pg_admin_url: str, jwt_secret: str) -> dict[str, str]:
    db_password = make_url(pg_admin_url).password
    assert db_password and len(db_password) >= 8, "the suite's DB password is not distinctive"
    return {
        "JWT secret": jwt_secret,
        "DATABASE_URL password": str(db_password),
        "user password": PASSWORD,
        "guessed password": GUESSED_PASSWORD,
        "random user password": USER_PASSWORD,
        "password hash": HASH_MARKER,
        "metrics token": METRICS_TOKEN,
    }


def spellings(value: str) -> set[str]:
    """The value as plain text writes it and as a JSON log line would (LOG_FORMAT=json
    escapes quotes and backslashes, and non-ASCII characters when asked)."""
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}


def leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if any(s in text for s in spellings(value))]


def assert_no_leaks(where: str, texts: Iterable[str], secrets: dict[str, str]) -> None:
    for text in texts:
        found = leaks(text, secrets)
        assert not found, f"{where} contains the {', '.join(found)}"
