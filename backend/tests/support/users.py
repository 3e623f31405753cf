"""Accounts for tests: sign up and log in through the real API."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

import httpx

PASSWORD = "correct horse battery staple"
_counter = itertools.count()


@dataclass(frozen=True)
class UserSession:
    id: uuid.UUID
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}-{uuid.uuid4().hex[:8]}@example.com"


def signup_and_login(
    client: httpx.Client, *, email: str | None = None, password: str = PASSWORD
) -> UserSession:
    email = email or unique_email()
    created = client.post("/auth/signup", json={"email": email, "password": password})
    assert created.status_code == 201, created.text
    login = client.post("/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    return UserSession(
        uuid.UUID(created.json()["id"]), email, password, login.json()["access_token"]
    )
