"""Accounts for API tests that are not about sign-up: made fast, still real.

Sign-up hashes with the production Argon2 cost (about 0.3 s here), so tests that only need
*a* user insert the row directly with a cheap Argon2 hash and log in through the real API:
verification reads the cost from the hash, so the log-in path is the production one.
"""

from __future__ import annotations

import uuid

import httpx
import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from tests.support.database import query
from tests.support.users import PASSWORD, UserSession, unique_email

_CHEAP = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
_CHEAP_HASH = _CHEAP.hash(PASSWORD)


def quick_user(client: httpx.Client, database_url: str, *, email: str | None = None) -> UserSession:
    email = email or unique_email()
    user_id = uuid.uuid4()
    query(
        database_url,
        'INSERT INTO "user" (id, email, hashed_password) VALUES (%s, %s, %s) RETURNING id',
        user_id, email, _CHEAP_HASH,
    )  # fmt: skip
    login = client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return UserSession(user_id, email, PASSWORD, login.json()["access_token"])


def forge(claims: dict[str, object], secret: str, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
