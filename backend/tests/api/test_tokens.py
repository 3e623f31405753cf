"""Access tokens: HS256 with sub/iat/exp; every bad token is 401 with WWW-Authenticate."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import jwt
import orjson
import pytest

from tests.support.accounts import bearer, forge, quick_user
from tests.support.errors import assert_401
from tests.support.server import base_env, run_server
from tests.support.users import UserSession

OTHER_SECRET = "another-secret-that-is-long-enough-0123456789"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


def _claims(user: UserSession, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {"sub": str(user.id), "iat": now, "exp": now + 600}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_issued_token_is_hs256_with_sub_iat_exp(
    client: httpx.Client, database_url: str, jwt_secret: str
) -> None:
    user = quick_user(client, database_url)
    assert jwt.get_unverified_header(user.token)["alg"] == "HS256"
    claims = jwt.decode(user.token, jwt_secret, algorithms=["HS256"])
    assert claims["sub"] == str(user.id)
    assert claims["exp"] - claims["iat"] == 60 * 60
    assert abs(claims["iat"] - time.time()) < 60


def test_a_token_forged_with_the_server_secret_is_accepted(
    client: httpx.Client, database_url: str, jwt_secret: str
) -> None:
    # The control for the cases below: the forging itself is right, only the flaw differs.
    user = quick_user(client, database_url)
    response = client.get("/users/me", headers=bearer(forge(_claims(user), jwt_secret)))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(user.id)


def _tampered_signature(user: UserSession, secret: str) -> str:
    header, payload, _ = forge(_claims(user), secret).split(".")
    _, _, foreign = forge(_claims(user), OTHER_SECRET).split(".")
    return f"{header}.{payload}.{foreign}"


def _tampered_payload(user: UserSession, secret: str) -> str:
    header, _, signature = forge(_claims(user), secret).split(".")
    return f"{header}.{_b64(_claims(user, sub=str(uuid.uuid4())))}.{signature}"


def _alg_none(user: UserSession, secret: str) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(user))}."


BAD_TOKENS: dict[str, Callable[[UserSession, str], str]] = {
    "malformed": lambda u, s: "not-a-jwt",
    "three-garbage-parts": lambda u, s: "abc.def.ghi",
    "tampered-signature": _tampered_signature,
    "tampered-payload": _tampered_payload,
    "expired": lambda u, s: forge(
        _claims(u, iat=int(time.time()) - 7200, exp=int(time.time()) - 5), s
    ),
    "other-secret": lambda u, s: forge(_claims(u), OTHER_SECRET),
    "alg-none": _alg_none,
    "alg-HS512": lambda u, s: forge(_claims(u), s, "HS512"),
    "no-exp": lambda u, s: forge({"sub": str(u.id), "iat": int(time.time())}, s),
    "no-iat": lambda u, s: forge(_claims(u, iat=None), s),
    "no-sub": lambda u, s: forge(_claims(u, sub=None), s),
    "sub-not-a-uuid": lambda u, s: forge(_claims(u, sub="admin"), s),
    "sub-of-no-user": lambda u, s: forge(_claims(u, sub=str(uuid.uuid4())), s),
}


def test_bad_tokens_are_401_with_www_authenticate(
    client: httpx.Client, database_url: str, jwt_secret: str
) -> None:
    user = quick_user(client, database_url)
    for case, make in BAD_TOKENS.items():
        h = bearer(make(user, jwt_secret))
        for response in (
            client.get("/users/me", headers=h),
            client.get("/tasks", headers=h),
            client.post("/tasks", json={"title": "x"}, headers=h),
        ):
            assert response.status_code == 401, (case, response.request.url.path, response.text)
            assert_401(response)
    assert client.get("/tasks", headers=user.headers).json()["items"] == []  # nothing created


def test_missing_token_is_401_with_www_authenticate(client: httpx.Client) -> None:
    for authorization in (None, "", "Bearer", "Basic dXNlcjpwYXNz", "Token abc", "Bearer a b"):
        headers = {} if authorization is None else {"Authorization": authorization}
        response = client.get("/users/me", headers=headers)
        assert response.status_code == 401, authorization
        assert_401(response)


def test_token_of_a_deleted_user_is_401_everywhere(client: httpx.Client, database_url: str) -> None:
    user = quick_user(client, database_url)
    task = client.post("/tasks", json={"title": "t"}, headers=user.headers).json()
    assert client.delete("/users/me", headers=user.headers).status_code == 204
    h = user.headers
    assert_401(client.get("/users/me", headers=h))
    assert_401(client.delete("/users/me", headers=h))
    assert_401(client.get("/tasks", headers=h))
    assert_401(client.post("/tasks", json={"title": "t"}, headers=h))
    assert_401(client.get(f"/tasks/{task['id']}", headers=h))
    assert_401(client.patch(f"/tasks/{task['id']}", json={"title": "u"}, headers=h))
    assert_401(client.post(f"/tasks/{task['id']}/complete", headers=h))
    assert_401(client.post(f"/tasks/{task['id']}/reopen", headers=h))
    assert_401(client.delete(f"/tasks/{task['id']}", headers=h))


@pytest.mark.slow
def test_start_up_refuses_a_short_secret_without_printing_it(
    database_url: str, tmp_path: Path
) -> None:
    secret = "short-but-secret-value"
    env = base_env(DATABASE_URL=database_url, JWT_SECRET=secret)
    with run_server(env, tmp_path, wait=False) as server:
        code = server.process.wait(timeout=30)
        log = server.log()
    assert code != 0
    assert "JWT_SECRET" in log and "32 bytes" in log
    assert secret not in log


@pytest.mark.slow
def test_token_lifetime_follows_settings(
    client: httpx.Client, database_url: str, tmp_path: Path
) -> None:
    env = base_env(DATABASE_URL=database_url, JWT_SECRET=OTHER_SECRET, JWT_EXPIRE_MINUTES="5")
    user = quick_user(client, database_url)
    with run_server(env, tmp_path) as server:
        login = httpx.post(
            server.url + "/auth/login", json={"email": user.email, "password": user.password}
        )
    assert login.status_code == 200, login.text
    assert login.json()["expires_in"] == 300
    claims = jwt.decode(login.json()["access_token"], OTHER_SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 300
    # The suite's server has its own secret: another server's token means nothing there.
    assert_401(client.get("/users/me", headers=bearer(login.json()["access_token"])))


def test_a_token_older_than_the_lifetime_is_401_whatever_its_exp(
    client: httpx.Client, database_url: str, jwt_secret: str
) -> None:
    # A forged or long-lived token cannot outlive JWT_EXPIRE_MINUTES (60) from its iat: the
    # revocation list forgets revocations after that long (core/revocation.py).
    user = quick_user(client, database_url)
    old = int(time.time()) - 2 * 3600
    token = forge(_claims(user, iat=old, exp=old + 30 * 86400), jwt_secret)
    assert_401(client.get("/users/me", headers=bearer(token)))
