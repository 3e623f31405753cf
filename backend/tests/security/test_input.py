"""Hostile input: SQL and script fragments are data, bodies and fields have limits."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.database import query
from tests.support.users import UserSession, signup_and_login, unique_email

MAX_BODY_BYTES = 65536  # the documented default of MAX_BODY_BYTES
TITLE_MAX, DESCRIPTION_MAX, KEY_MAX, PASSWORD_MAX = 200, 2000, 200, 128

FRAGMENTS = [
    "'; DROP TABLE task; --",
    "' OR '1'='1",
    '" OR ""="',
    "1; SELECT pg_sleep(5); --",
    '$$; DELETE FROM "user"; $$',
    "\\'; TRUNCATE task CASCADE; --",
    "%_\\%",
    "<script>alert(document.cookie)</script>",
    '<img src=x onerror="alert(1)">',
    "javascript:alert(1)",
    "{{7*7}} ${7*7} #{7*7}",
    "Robert'); DROP TABLE Students;--  ☃ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u202e",
]


@pytest.fixture
def user(client: httpx.Client) -> UserSession:
    return signup_and_login(client)


def assert_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert list(response.json()) == ["detail"]


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_fragments_are_stored_and_returned_literally(
    client: httpx.Client, user: UserSession, database_url: str, fragment: str
) -> None:
    h = user.headers
    created = client.post("/tasks", json={"title": fragment, "description": fragment}, headers=h)
    assert created.status_code == 201, created.text
    task = created.json()
    assert (task["title"], task["description"]) == (fragment, fragment)
    stored = query(database_url, "SELECT title, description FROM task WHERE id = %s", task["id"])
    assert stored == [(fragment, fragment)]
    assert client.get(f"/tasks/{task['id']}", headers=h).json()["title"] == fragment
    patched = client.patch(f"/tasks/{task['id']}", json={"description": fragment + "!"}, headers=h)
    assert patched.json()["description"] == fragment + "!"
    # As a search term it matches itself, literally, and nothing else.
    client.post("/tasks", json={"title": "an ordinary task"}, headers=h)
    found = client.get("/tasks", params={"q": fragment}, headers=h).json()["items"]
    assert [t["id"] for t in found] == [task["id"]]
    # The tables are all still there and hold what they should.
    assert query(database_url, 'SELECT count(*) FROM "user"') == [(1,)]
    assert query(database_url, "SELECT count(*) FROM task") == [(2,)]


@pytest.mark.parametrize("fragment", FRAGMENTS[:6])
def test_fragments_in_credentials_are_data(client: httpx.Client, fragment: str) -> None:
    password = f"pw-{fragment}"[:PASSWORD_MAX]
    email = unique_email("inj")
    assert (
        client.post("/auth/signup", json={"email": email, "password": password}).status_code == 201
    )
    ok = client.post("/auth/login", json={"email": email, "password": password})
    assert ok.status_code == 200
    wrong = client.post("/auth/login", json={"email": email, "password": fragment})
    assert wrong.status_code == 401
    # A fragment as the email is invalid input, never a query that matches someone.
    assert client.post("/auth/login", json={"email": fragment, "password": "x"}).status_code == 422


@pytest.mark.parametrize("bad", ["\x00", "a\x00b"])
def test_nul_characters_are_refused_not_a_server_error(
    client: httpx.Client, user: UserSession, bad: str
) -> None:
    """Postgres text cannot hold NUL; the API must say 422, not fail with 500."""
    h = user.headers
    assert_error(client.post("/tasks", json={"title": bad}, headers=h), 422)
    assert_error(client.post("/tasks", json={"title": "t", "description": bad}, headers=h), 422)
    task = client.post("/tasks", json={"title": "t"}, headers=h).json()
    assert_error(client.patch(f"/tasks/{task['id']}", json={"title": bad}, headers=h), 422)
    assert_error(client.get("/tasks", params={"q": bad}, headers=h), 422)
    signup = client.post("/auth/signup", json={"email": unique_email(), "password": bad * 8})
    assert signup.status_code in (201, 422), signup.text


def chunks(total: int, size: int = 8192) -> Iterator[bytes]:
    body = b'{"title": "' + b"x" * total + b'"}'
    for i in range(0, len(body), size):
        yield body[i : i + size]


@pytest.mark.parametrize(
    ("method", "path", "auth"),
    [("POST", "/tasks", True), ("PATCH", "/tasks/{id}", True),
     ("POST", "/auth/signup", False), ("POST", "/auth/login", False)],
)  # fmt: skip
def test_body_over_the_limit_is_413(
    client: httpx.Client, user: UserSession, method: str, path: str, auth: bool
) -> None:
    h = dict(user.headers) if auth else {}
    task = client.post("/tasks", json={"title": "t"}, headers=user.headers).json()
    url = path.replace("{id}", task["id"])
    big = b'{"title": "' + b"x" * MAX_BODY_BYTES + b'"}'
    sized = client.request(
        method, url, content=big, headers={**h, "content-type": "application/json"}
    )
    assert_error(sized, 413)
    # Without Content-Length (chunked), the limit is counted as the body arrives.
    chunked = client.request(
        method,
        url,
        content=chunks(MAX_BODY_BYTES),
        headers={**h, "content-type": "application/json"},
    )
    assert "content-length" not in chunked.request.headers
    assert_error(chunked, 413)
    # Just under the limit is not refused for its size.
    under = client.request(method, url, content=b" " * (MAX_BODY_BYTES - 10), headers=h)
    assert under.status_code != 413


@pytest.mark.parametrize(
    ("field", "limit"), [("title", TITLE_MAX), ("description", DESCRIPTION_MAX)]
)
def test_over_long_task_fields_are_422(
    client: httpx.Client, user: UserSession, database_url: str, field: str, limit: int
) -> None:
    h = user.headers
    body = {"title": "t", field: "y" * (limit + 1)}
    assert_error(client.post("/tasks", json=body, headers=h), 422)
    task = client.post("/tasks", json={"title": "t"}, headers=h).json()
    assert_error(
        client.patch(f"/tasks/{task['id']}", json={field: "y" * (limit + 1)}, headers=h), 422
    )
    at_limit = client.patch(f"/tasks/{task['id']}", json={field: "y" * limit}, headers=h)
    assert at_limit.status_code == 200
    assert query(database_url, "SELECT count(*) FROM task") == [(1,)]


def test_other_over_long_inputs_are_422(client: httpx.Client, user: UserSession) -> None:
    h = user.headers
    long_key = {**h, "Idempotency-Key": "k" * (KEY_MAX + 1)}
    assert_error(client.post("/tasks", json={"title": "t"}, headers=long_key), 422)
    assert_error(client.get("/tasks", params={"q": "q" * 201}, headers=h), 422)
    assert_error(client.get("/tasks", params={"cursor": "c" * 513}, headers=h), 422)
    long_password = {"email": unique_email(), "password": "p" * (PASSWORD_MAX + 1)}
    assert_error(client.post("/auth/signup", json=long_password), 422)
    assert_error(client.post("/auth/login", json=long_password), 422)
    long_email = {"email": "e" * 320 + "@example.com", "password": "p" * 12}
    assert_error(client.post("/auth/signup", json=long_email), 422)


def test_malformed_bodies_are_422(client: httpx.Client, user: UserSession) -> None:
    json_type = {"content-type": "application/json"}
    for body in (
        b"{",
        b"\xff\xfe\x00garbage",
        b'{"title": "\xc3\x28"}',
        b"\x80",
        b"[1, 2",
        b"null",
    ):
        assert_error(
            client.post("/tasks", content=body, headers={**user.headers, **json_type}), 422
        )
        assert_error(client.post("/auth/signup", content=body, headers=json_type), 422)
        assert_error(client.post("/auth/login", content=body, headers=json_type), 422)
