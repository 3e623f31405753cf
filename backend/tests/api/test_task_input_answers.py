"""The task routes' answers to unusual input, byte for byte.

The list, the create and the patch validate their input on a fast path (api/fast_path.py) and
hand anything it does not accept to FastAPI's own handling. These tests pin what that handling
answers: every body below was recorded from main before the fast path existed (f971fbb), so a
fast path that accepted too much, or answered an error itself, fails here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support.accounts import quick_user
from tests.support.users import UserSession

# Request and answer behaviour only: served in this process (tests/conftest.py: client).
pytestmark = pytest.mark.in_process

JSON = {"Content-Type": "application/json"}
TASK = "/tasks/{task}"
# One refusal per line: (method, path, headers, body, status, the exact answer). "{task}" is
# a task of the caller; every request carries the caller's token unless its headers hold
# ANONYMOUS.
Case = tuple[str, str, dict[str, str], bytes, int, bytes]
ANONYMOUS = {"Authorization": ""}  # the header is left out


def _missing(loc: str) -> bytes:
    return (b'{"detail":[{"loc":["body"%s],"msg":"Field required","type":"missing"}]}'
            % (b',"' + loc.encode() + b'"' if loc else b""))  # fmt: skip


INVALID_JSON = b'{"detail":[{"loc":["body",%d],"msg":"JSON decode error","type":"json_invalid"}]}'
NOT_UTF8 = (b'{"detail":[{"loc":["body"],"msg":"Body is not valid UTF-8 JSON",'
            b'"type":"json_invalid"}]}')  # fmt: skip
UNAUTHORIZED = b'{"detail":"Could not validate credentials"}'
EXTRA = b'{"loc":["body","%s"],"msg":"Extra inputs are not permitted","type":"extra_forbidden"}'
# The create's and the patch's answer alike to a body that is not a JSON object.
NOT_AN_OBJECT = (
    b'{"detail":[{"loc":["body"],"msg":"Input should be a valid dictionary or object to extract '
    b'fields from","type":"model_attributes_type"}]}'
)
TITLE_TOO_SHORT = (b'{"detail":[{"loc":["body","title"],"msg":"String should have at least 1 '
                   b'character","type":"string_too_short"}]}')  # fmt: skip
TITLE_TOO_LONG = (b'{"detail":[{"loc":["body","title"],"msg":"String should have at most 200 '
                  b'characters","type":"string_too_long"}]}')  # fmt: skip
DESCRIPTION_TOO_LONG = (b'{"detail":[{"loc":["body","description"],"msg":"String should have '
                        b'at most 2000 characters","type":"string_too_long"}]}')  # fmt: skip
TITLE_NOT_A_STRING = (b'{"detail":[{"loc":["body","title"],"msg":"Input should be a valid '
                      b'string","type":"string_type"}]}')  # fmt: skip
TITLE_NUL = (b'{"detail":[{"loc":["body","title"],"msg":"String should match pattern '
             b'\'^[^\\\\x00]*$\'","type":"string_pattern_mismatch"}]}')  # fmt: skip
TITLE_SURROGATE = (b'{"detail":[{"loc":["body","title"],"msg":"Input should be a valid string, '
                   b'unable to parse raw data as a unicode string",'
                   b'"type":"string_unicode"}]}')  # fmt: skip
KEY_TOO_SHORT = (b'{"loc":["header","idempotency-key"],"msg":"String should have at least 1 '
                 b'character","type":"string_too_short"}')  # fmt: skip
KEY_TOO_LONG = (b'{"loc":["header","idempotency-key"],"msg":"String should have at most 200 '
                b'characters","type":"string_too_long"}')  # fmt: skip
BAD_UUID = (b'{"loc":["path","task_id"],"msg":"Input should be a valid UUID, invalid character: '
            b'found `x` at 0","type":"uuid_parsing"}')  # fmt: skip
COMPLETED_NOT_BOOL = (b'{"loc":["body","completed"],"msg":"Input should be a valid boolean, '
                      b'unable to interpret input","type":"bool_parsing"}')  # fmt: skip
MANY_UNKNOWN = b"{" + b",".join(b'"k%d":1' % i for i in range(25)) + b"}"
MANY_UNKNOWN_ANSWER = (
    b'{"detail":[{"loc":["body","title"],"msg":"Field required","type":"missing"},'
    + b",".join(EXTRA % b"k%d" % i for i in range(19))
    + b',{"loc":[],"msg":"6 more errors not shown (26 in all)","type":"too_many_errors",'
    b'"count":26}]}'
)  # fmt: skip


def _detail(*errors: bytes) -> bytes:
    return b'{"detail":[' + b",".join(errors) + b"]}"


def _query(loc: str, msg: str, kind: str) -> bytes:
    return _detail(json.dumps({"loc": ["query", loc], "msg": msg, "type": kind},
                              separators=(",", ":")).encode())  # fmt: skip


AUTH: dict[str, str] = {}  # the caller's token alone
TEXT = {"Content-Type": "text/plain"}
NONE: dict[str, str] = {}  # authorised, but no Content-Type
OK = b'{"title":"x"}'

CREATE_CASES: list[Case] = [
    ("POST", "/tasks", JSON, b"{bad json", 422, INVALID_JSON % 1),
    ("POST", "/tasks", JSON, b'{"title": "x"} trailing', 422, INVALID_JSON % 15),
    ("POST", "/tasks", JSON, b'{"title": "a\tb"}', 422, INVALID_JSON % 12),
    ("POST", "/tasks", JSON, b'{"title": "\xff"}', 422, NOT_UTF8),
    ("POST", "/tasks", JSON, b"", 422, _missing("")),
    ("POST", "/tasks", JSON, b"null", 422, NOT_AN_OBJECT),
    ("POST", "/tasks", JSON, b"[1, 2]", 422, NOT_AN_OBJECT),
    ("POST", "/tasks", JSON, b'"x"', 422, NOT_AN_OBJECT),
    ("POST", "/tasks", JSON, b"{}", 422, _missing("title")),
    ("POST", "/tasks", TEXT, OK, 422, NOT_AN_OBJECT),
    ("POST", "/tasks", NONE, OK, 422, NOT_AN_OBJECT),
    ("POST", "/tasks", {"Content-Type": "application/xml"}, OK, 422, NOT_AN_OBJECT),
    ("POST", "/tasks", JSON, b'{"title": "x", "owner_id": "u"}', 422, _detail(EXTRA % b"owner_id")),
    ("POST", "/tasks", JSON, MANY_UNKNOWN, 422, MANY_UNKNOWN_ANSWER),
    ("POST", "/tasks", JSON, b'{"title": 5}', 422, TITLE_NOT_A_STRING),
    ("POST", "/tasks", JSON, b'{"title": ""}', 422, TITLE_TOO_SHORT),
    ("POST", "/tasks", JSON, b'{"title": "   "}', 422, TITLE_TOO_SHORT),
    ("POST", "/tasks", JSON, b'{"title": "%s"}' % (b"x" * 201), 422, TITLE_TOO_LONG),
    ("POST", "/tasks", JSON, b'{"title": "x", "description": "%s"}' % (b"d" * 2001), 422,
     DESCRIPTION_TOO_LONG),
    ("POST", "/tasks", JSON, b'{"title": "a\\u0000b"}', 422, TITLE_NUL),
    ("POST", "/tasks", JSON, b'{"title": "a\\ud800b"}', 422, TITLE_SURROGATE),
    ("POST", "/tasks", JSON, b'{"title": "x", "completed": "maybe"}', 422,
     _detail(COMPLETED_NOT_BOOL)),
    ("POST", "/tasks", {**JSON, "Idempotency-Key": ""}, OK, 422, _detail(KEY_TOO_SHORT)),
    ("POST", "/tasks", {**JSON, "Idempotency-Key": "k" * 201}, OK, 422, _detail(KEY_TOO_LONG)),
    # Every error at once, in FastAPI's order: the header's, then the body's.
    ("POST", "/tasks", {**JSON, "Idempotency-Key": ""}, b'{"title": ""}', 422,
     _detail(KEY_TOO_SHORT, TITLE_TOO_SHORT.removeprefix(b'{"detail":[').removesuffix(b"]}"))),
    # The body is read before the token is checked: malformed JSON is 422 even without one.
    ("POST", "/tasks", {**ANONYMOUS, **JSON}, b"{bad json", 422, INVALID_JSON % 1),
    ("POST", "/tasks", {**ANONYMOUS, **JSON}, b'{"title": "\xff"}', 422, NOT_UTF8),
    # A body that is not JSON is not read: the token is checked first.
    ("POST", "/tasks", {**ANONYMOUS, **TEXT}, b"{bad json", 401, UNAUTHORIZED),
    ("POST", "/tasks", {**ANONYMOUS, **JSON}, OK, 401, UNAUTHORIZED),
    ("POST", "/tasks", {**ANONYMOUS, **JSON}, b'{"title": ""}', 401, UNAUTHORIZED),
    ("POST", "/tasks", {**ANONYMOUS, **JSON, "Idempotency-Key": ""}, OK, 401, UNAUTHORIZED),
]  # fmt: skip

PATCH_CASES: list[Case] = [
    ("PATCH", TASK, JSON, b"{bad json", 422, INVALID_JSON % 1),
    ("PATCH", TASK, JSON, b'{"title": "\xff"}', 422, NOT_UTF8),
    ("PATCH", TASK, JSON, b"", 422, _missing("")),
    ("PATCH", TASK, JSON, b"[]", 422, NOT_AN_OBJECT),
    ("PATCH", TASK, TEXT, b'{"completed": true}', 422, NOT_AN_OBJECT),
    ("PATCH", TASK, NONE, b'{"completed": true}', 422, NOT_AN_OBJECT),
    ("PATCH", TASK, JSON, b'{"title": null}', 422,
     _detail(b'{"loc":["body","title"],"msg":"title cannot be null","type":"null_not_allowed"}')),
    ("PATCH", TASK, JSON, b'{"completed": null}', 422,
     _detail(b'{"loc":["body","completed"],"msg":"completed cannot be null",'
             b'"type":"null_not_allowed"}')),
    ("PATCH", TASK, JSON, b'{"completed": "maybe"}', 422, _detail(COMPLETED_NOT_BOOL)),
    ("PATCH", TASK, JSON, b'{"done": true}', 422, _detail(EXTRA % b"done")),
    ("PATCH", TASK, JSON, b'{"title": ""}', 422, TITLE_TOO_SHORT),
    ("PATCH", TASK, JSON, b'{"title": "%s"}' % (b"x" * 201), 422, TITLE_TOO_LONG),
    ("PATCH", "/tasks/xyz", JSON, b'{"completed": true}', 422, _detail(BAD_UUID)),
    ("PATCH", "/tasks/xyz", JSON, b'{"completed": "maybe"}', 422,
     _detail(BAD_UUID, COMPLETED_NOT_BOOL)),
    ("PATCH", f"/tasks/{uuid.uuid4()}", JSON, b'{"completed": true}', 404,
     b'{"detail":"Task not found"}'),
    ("PATCH", TASK, {**ANONYMOUS, **JSON}, b"{bad json", 422, INVALID_JSON % 1),
    ("PATCH", TASK, {**ANONYMOUS, **JSON}, b'{"completed": true}', 401, UNAUTHORIZED),
    ("PATCH", TASK, {**ANONYMOUS, **JSON}, b'{"completed": "maybe"}', 401, UNAUTHORIZED),
    ("PATCH", "/tasks/xyz", {**ANONYMOUS, **JSON}, b'{"completed": true}', 401, UNAUTHORIZED),
]  # fmt: skip

LIST_CASES: list[Case] = [
    ("GET", "/tasks?limit=0", AUTH, b"", 422,
     _query("limit", "Input should be greater than or equal to 1", "greater_than_equal")),
    ("GET", "/tasks?limit=101", AUTH, b"", 422,
     _query("limit", "Input should be less than or equal to 100", "less_than_equal")),
    ("GET", "/tasks?limit=abc", AUTH, b"", 422,
     _query("limit", "Input should be a valid integer, unable to parse string as an integer",
            "int_parsing")),
    ("GET", "/tasks?limit=", AUTH, b"", 422,
     _query("limit", "Input should be a valid integer, unable to parse string as an integer",
            "int_parsing")),
    # A repeated parameter: the last one counts.
    ("GET", "/tasks?limit=5&limit=abc", AUTH, b"", 422,
     _query("limit", "Input should be a valid integer, unable to parse string as an integer",
            "int_parsing")),
    ("GET", "/tasks?sort=bogus", AUTH, b"", 422,
     _query("sort", "Input should be 'created_at', 'updated_at' or 'title'", "enum")),
    ("GET", "/tasks?order=up", AUTH, b"", 422,
     _query("order", "Input should be 'asc' or 'desc'", "enum")),
    ("GET", "/tasks?completed=maybe", AUTH, b"", 422,
     _query("completed", "Input should be a valid boolean, unable to interpret input",
            "bool_parsing")),
    ("GET", "/tasks?q=a%00b", AUTH, b"", 422,
     _query("q", "String should match pattern '^[^\\x00]*$'", "string_pattern_mismatch")),
    ("GET", "/tasks?q=" + "q" * 201, AUTH, b"", 422,
     _query("q", "String should have at most 200 characters", "string_too_long")),
    ("GET", "/tasks?cursor=" + "c" * 513, AUTH, b"", 422,
     _query("cursor", "String should have at most 512 characters", "string_too_long")),
    ("GET", "/tasks?cursor=%25%25%25", AUTH, b"", 422,
     _query("cursor", "Invalid cursor", "value_error")),
    ("GET", "/tasks", ANONYMOUS, b"", 401, UNAUTHORIZED),
    ("GET", "/tasks", {"Authorization": "Bearer not-a-token"}, b"", 401, UNAUTHORIZED),
    # The token is checked before the parameters.
    ("GET", "/tasks?limit=0", ANONYMOUS, b"", 401, UNAUTHORIZED),
]  # fmt: skip


@pytest.fixture
def user(client: httpx.Client, database_url: str) -> UserSession:
    return quick_user(client, database_url)


def _answer(client: httpx.Client, user: UserSession, task_id: str, case: Case) -> httpx.Response:
    method, path, headers, body, _, _ = case
    sent = {**user.headers, **headers}
    if headers.get("Authorization") == "":
        del sent["Authorization"]
    return client.request(method, path.format(task=task_id), headers=sent, content=body)


def _check(client: httpx.Client, user: UserSession, cases: list[Case]) -> None:
    task = client.post("/tasks", json={"title": "Buy milk"}, headers=user.headers)
    assert task.status_code == 201, task.text
    wrong = []
    for case in cases:
        response = _answer(client, user, task.json()["id"], case)
        if (response.status_code, response.content) != (case[4], case[5]):
            wrong.append((case[:4], response.status_code, response.content))
        assert response.headers["content-type"] == "application/json"
        if response.status_code == 401:
            assert response.headers["www-authenticate"] == "Bearer"
    assert not wrong, wrong
    # None of the refusals changed the task.
    after = client.get(f"/tasks/{task.json()['id']}", headers=user.headers)
    assert after.json() == task.json()


def test_refused_creates_answer_as_fastapi_validation_does(
    client: httpx.Client, user: UserSession
) -> None:
    _check(client, user, CREATE_CASES)
    assert client.get("/tasks", headers=user.headers).json()["items"][0]["title"] == "Buy milk"


def test_refused_patches_answer_as_fastapi_validation_does(
    client: httpx.Client, user: UserSession
) -> None:
    _check(client, user, PATCH_CASES)


def test_refused_list_parameters_answer_as_fastapi_validation_does(
    client: httpx.Client, user: UserSession
) -> None:
    _check(client, user, LIST_CASES)


def test_bodies_json_accepts_beyond_the_fast_path_are_served(
    client: httpx.Client, user: UserSession
) -> None:
    # What Python's json module (FastAPI's parser) accepts and pydantic's JSON parser does not,
    # or other spellings of a JSON content type: still served, as before.
    def utf8(body: dict[str, Any]) -> bytes:
        return json.dumps(body).encode()

    encodings: list[tuple[Callable[[dict[str, Any]], bytes], dict[str, str]]] = [
        (lambda body: json.dumps(body).encode("utf-16"), JSON),
        (lambda body: b"\xef\xbb\xbf" + utf8(body), JSON),
        (utf8, {"Content-Type": "application/json; charset=utf-8"}),
        (utf8, {"Content-Type": "application/merge-patch+json"}),
        (utf8, {"Content-Type": "Application/JSON"}),
        (lambda body: b'{"title": "first", ' + utf8(body)[1:], JSON),  # the last key counts
    ]
    for encode, headers in encodings:
        sent = {**user.headers, **headers}
        created = client.post("/tasks", content=encode({"title": "New", "completed": "yes"}),
                              headers=sent)  # fmt: skip
        assert created.status_code == 201, (headers, created.text)
        assert (created.json()["title"], created.json()["completed"]) == ("New", True)
        task_id = created.json()["id"]
        patched = client.patch(f"/tasks/{task_id}", content=encode({"title": "Patched"}),
                               headers=sent)  # fmt: skip
        assert patched.status_code == 200, (headers, patched.text)
        assert (patched.json()["title"], patched.json()["completed"]) == ("Patched", True)


def test_uuid_spellings_pydantic_accepts_are_served(
    client: httpx.Client, user: UserSession
) -> None:
    task = client.post("/tasks", json={"title": "t"}, headers=user.headers).json()
    spellings = [task["id"].upper(), task["id"].replace("-", ""), "{" + task["id"] + "}",
                 "urn:uuid:" + task["id"]]  # fmt: skip
    for spelling in spellings:
        patched = client.patch(f"/tasks/{spelling}", json={"completed": True}, headers=user.headers)
        assert patched.status_code == 200, (spelling, patched.text)
        assert patched.json()["id"] == task["id"]


def test_list_parameters_the_fast_path_reads_as_fastapi_does(
    client: httpx.Client, user: UserSession
) -> None:
    for i in range(3):
        assert client.post("/tasks", json={"title": f"t{i}"}, headers=user.headers).is_success
    cases: dict[str, int] = {
        "/tasks?limit=abc&limit=2": 2,  # the last of a repeated parameter
        "/tasks?limit=1&unknown=x": 1,  # unknown parameters are ignored
        "/tasks?limit=%202%20": 2,  # pydantic's lax int: surrounding spaces
        "/tasks?completed=no": 3,
        "/tasks?completed=yes": 0,
        "/tasks?q=": 3,
        "/tasks": 3,
    }
    for path, count in cases.items():
        response = client.get(path, headers=user.headers)
        assert response.status_code == 200, (path, response.text)
        assert len(response.json()["items"]) == count, path
