"""Assertions on the one error shape of the API."""

from __future__ import annotations

from typing import Any

import httpx

TRACE_MARKERS = ("Traceback", 'File "', "sqlalchemy", "psycopg", "site-packages")


def assert_error(response: httpx.Response, status: int) -> Any:
    """`{"detail": ...}` and nothing else, JSON, with no trace of the server's insides."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["detail"], body
    for marker in TRACE_MARKERS:
        assert marker not in response.text, response.text
    return body["detail"]


def assert_422_names(response: httpx.Response, *loc: str) -> list[dict[str, Any]]:
    """422 whose detail lists an error at exactly `loc` (e.g. "body", "email")."""
    detail = assert_error(response, 422)
    assert isinstance(detail, list), detail
    locs = [tuple(str(p) for p in e["loc"]) for e in detail]
    assert tuple(loc) in locs, locs
    for entry in detail:
        assert set(entry) == {"loc", "msg", "type"}, entry
    return list(detail)


def assert_401(response: httpx.Response) -> None:
    assert_error(response, 401)
    assert response.headers.get("www-authenticate") == "Bearer"
