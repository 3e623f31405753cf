"""Small leaks closed: security headers on every answer, no Host-built redirect, no query
strings in the access log, validation errors capped."""

from __future__ import annotations

import time
import uuid

import httpx
import orjson
import pytest

from tests.api.accounts import quick_user
from tests.support.server import Server
from tests.support.users import UserSession

LETTERS = "abcdefghijklmnopqrstuvwxyz"
SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
}


@pytest.fixture
def user(client: httpx.Client, database_url: str) -> UserSession:
    return quick_user(client, database_url)


def test_every_kind_of_answer_carries_the_security_headers(
    client: httpx.Client, user: UserSession
) -> None:
    created = client.post("/tasks", json={"title": "Buy milk"}, headers=user.headers)
    answers = {
        "200 list": client.get("/tasks", headers=user.headers),
        "201 create": created,
        "204 delete": client.delete(f"/tasks/{created.json()['id']}", headers=user.headers),
        "401 no token": client.get("/tasks"),
        "404 no task": client.get(f"/tasks/{uuid.uuid4()}", headers=user.headers),
        "404 no route": client.get("/nowhere"),
        "405 method": client.put("/tasks", headers=user.headers),
        "413 body": client.post("/tasks", content=b"x" * 70_000, headers=user.headers),
        "422 body": client.post("/tasks", json={}, headers=user.headers),
        "CORS preflight": client.options("/tasks", headers={
            "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}),
        "docs (HTML)": client.get("/docs"),
        "openapi.json": client.get("/openapi.json"),
        "health": client.get("/health"),
    }  # fmt: skip
    missing = {
        name: {k: r.headers.get(k) for k in SECURITY if r.headers.get(k) != SECURITY[k]}
        for name, r in answers.items()
    }
    assert {name: m for name, m in missing.items() if m} == {}


def test_a_trailing_slash_is_404_without_a_redirect_built_from_host(
    client: httpx.Client, user: UserSession
) -> None:
    answer = client.get("/tasks/", headers={**user.headers, "Host": "evil.example"})
    assert answer.status_code == 404
    assert "location" not in answer.headers


def test_7000_unknown_keys_get_20_errors_and_a_count(
    client: httpx.Client, user: UserSession
) -> None:
    keys = [a + b + c for a in LETTERS for b in LETTERS for c in LETTERS][:7000]
    body = orjson.dumps({"title": "Buy milk", **dict.fromkeys(keys, 1)})
    assert 50_000 < len(body) < 65_536  # under MAX_BODY_BYTES
    answer = client.post("/tasks", content=body,
                         headers={**user.headers, "Content-Type": "application/json"})  # fmt: skip
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert len(detail) == 21
    assert detail[0] == {"loc": ["body", "aaa"], "msg": "Extra inputs are not permitted",
                         "type": "extra_forbidden"}  # fmt: skip
    assert detail[-1] == {"loc": [], "msg": "6980 more errors not shown (7000 in all)",
                          "type": "too_many_errors", "count": 7000}  # fmt: skip
    assert len(answer.content) < 3_000  # 12x the request before the cap (issue 14)


def test_the_access_log_has_paths_without_query_strings(
    client: httpx.Client, user: UserSession, live_server: Server
) -> None:
    marker = f"private-search-{uuid.uuid4().hex[:8]}"
    request_id = f"hygiene-{uuid.uuid4().hex[:8]}"
    answer = client.get("/tasks", params={"q": marker, "access_token": "leaked.jwt.value"},
                        headers={**user.headers, "X-Request-ID": request_id})  # fmt: skip
    assert answer.status_code == 200
    deadline = time.monotonic() + 5
    while request_id not in live_server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = live_server.log()
    line = next(line for line in log.splitlines() if request_id in line)
    assert f"aido.access [{request_id}] GET /tasks 200 " in line
    assert marker not in log and "leaked.jwt.value" not in log


@pytest.mark.parametrize("key", ["cls", "self", "__class__"])
def test_a_body_key_named_like_a_python_argument_is_an_ordinary_422(
    client: httpx.Client, user: UserSession, key: str
) -> None:
    # SQLModel request models took a "cls" key as their own argument: 500 (found here).
    created = client.post("/tasks", json={"title": "Buy milk", key: 1}, headers=user.headers)
    assert created.status_code == 422
    assert created.json()["detail"][0]["type"] == "extra_forbidden"
    task = client.post("/tasks", json={"title": "Buy milk"}, headers=user.headers).json()
    patched = client.patch(f"/tasks/{task['id']}", json={key: 1}, headers=user.headers)
    assert patched.status_code == 422
