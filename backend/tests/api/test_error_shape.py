"""Every error answer is JSON `{"detail": ...}`; none leaks a trace, and none is a 500."""

from __future__ import annotations

import uuid

import httpx

from tests.support.accounts import quick_user
from tests.support.errors import assert_error
from tests.support.server import Server


def test_error_paths_share_one_shape_and_log_no_trace(
    client: httpx.Client, database_url: str, live_server: Server
) -> None:
    start = len(live_server.log())
    user = quick_user(client, database_url)
    h = user.headers
    json_h = {**h, "Content-Type": "application/json"}
    cases: list[tuple[httpx.Response, int]] = [
        (client.get("/no/such/route"), 404),
        (client.put("/tasks", headers=h), 405),
        (client.get(f"/tasks/{uuid.uuid4()}", headers=h), 404),
        (client.get("/tasks/xyz", headers=h), 422),
        (client.post("/tasks", content=b"{bad json", headers=json_h), 422),
        (client.post("/tasks", content=b"[1, 2]", headers=json_h), 422),
        (client.post("/tasks", content=b"title=x", headers={**h, "Content-Type": "text/plain"}),
         422),
        (client.post("/tasks", content=b"x" * 70_000, headers=json_h), 413),
        (client.post("/auth/signup", json={"email": "a@example.com", "password": "x"}), 422),
        (client.post("/auth/login", json={"email": "a@example.com", "password": "wrong"}), 401),
        (client.get("/users/me"), 401),
        (client.get("/tasks", params={"cursor": "%%%"}, headers=h), 422),
    ]  # fmt: skip
    for response, status in cases:
        assert_error(response, status)
    log = live_server.log()[start:]
    assert "Traceback" not in log
    assert "unhandled" not in log  # the 500 handler's line
    assert user.token not in log
