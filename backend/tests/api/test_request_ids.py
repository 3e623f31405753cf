"""Request ids and the access log: a plain client id is kept, any other replaced; the id is
echoed and in the request's log lines; one access line per request, with the route template,
status and duration; health probes are not logged at INFO."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from tests.api.accounts import quick_user
from tests.support.server import Server

MADE_ID = re.compile(r"[0-9a-f]{32}")


def logged_lines(server: Server, marker: str, *, count: int = 1, timeout: float = 5) -> list[str]:
    """The server's log lines holding `marker`, once at least `count` of them are written."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in server.log().splitlines() if marker in line]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_a_plain_request_id_is_echoed_and_tags_the_access_line(
    client: httpx.Client, live_server: Server
) -> None:
    request_id = f"client-{uuid.uuid4().hex[:12]}.1:2"
    answer = client.get("/health/live", headers={"X-Request-ID": request_id})
    assert answer.headers["x-request-id"] == request_id
    answer = client.get("/users/me", headers={"X-Request-ID": request_id})
    assert answer.status_code == 401 and answer.headers["x-request-id"] == request_id
    (line,) = logged_lines(live_server, request_id)  # the probe wrote none
    assert f"INFO  aido.access [{request_id}] GET /users/me 401 " in line
    assert re.search(r" 401 \d+\.\d ms client=127\.0\.0\.1$", line), line


@pytest.mark.parametrize(
    "sent",
    ["two words", "x" * 129, "semi;colon", "émoji-é", ""],
    ids=["space", "129 chars", "semicolon", "non-ascii", "empty"],
)
def test_any_other_request_id_is_replaced_by_a_new_one(client: httpx.Client, sent: str) -> None:
    answer = client.get("/health/live", headers={"X-Request-ID": sent.encode()})
    assert answer.headers["x-request-id"] != sent
    assert MADE_ID.fullmatch(answer.headers["x-request-id"])


def test_without_a_request_id_each_request_gets_its_own(client: httpx.Client) -> None:
    ids = {client.get("/health/live").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5 and all(MADE_ID.fullmatch(i) for i in ids)


def test_the_access_line_has_the_route_template_not_the_path(
    client: httpx.Client, live_server: Server, database_url: str
) -> None:
    user = quick_user(client, database_url)
    task = client.post("/tasks", json={"title": "t"}, headers=user.headers).json()
    cases = {
        "read": ("GET", f"/tasks/{task['id']}?fields=all", 200, "GET /tasks/{task_id} 200 "),
        "missing": ("DELETE", f"/tasks/{uuid.uuid4()}", 404, "DELETE /tasks/{task_id} 404 "),
        "unknown path": ("GET", f"/no/such/{task['id']}", 404, "GET unmatched 404 "),
        # Answered before routing (the body limit), still named by its route.
        "too large": ("PATCH", f"/tasks/{task['id']}", 413, "PATCH /tasks/{task_id} 413 "),
    }
    for name, (method, path, status, expected) in cases.items():
        request_id = f"route-{name.replace(' ', '-')}-{uuid.uuid4().hex[:8]}"
        body = b"x" * 70_000 if status == 413 else None
        answer = client.request(method, path, content=body,
                                headers={**user.headers, "X-Request-ID": request_id})  # fmt: skip
        assert answer.status_code == status, (name, answer.text)
        (line,) = logged_lines(live_server, request_id)
        assert expected in line, (name, line)
        assert task["id"] not in line and "fields" not in line, line


def test_health_probes_are_not_logged_at_info(client: httpx.Client, live_server: Server) -> None:
    request_id = f"probe-{uuid.uuid4().hex[:8]}"
    for path in ("/health", "/health/live"):
        assert client.get(path, headers={"X-Request-ID": request_id}).status_code == 200
    marker = f"later-{uuid.uuid4().hex[:8]}"
    client.get("/users/me", headers={"X-Request-ID": marker})
    assert logged_lines(live_server, marker)  # written after the probes' would have been
    assert logged_lines(live_server, request_id, timeout=0) == []


def test_the_request_id_is_exposed_to_the_web_ui(client: httpx.Client) -> None:
    answer = client.get("/health/live", headers={"Origin": "http://localhost:3000"})
    assert "X-Request-ID" in answer.headers["access-control-expose-headers"]


UNEXPECTED_ERROR_SCRIPT = """
import asyncio, httpx
from aido.core.config import Settings
from aido.main import create_app
app = create_app(Settings(_env_file=None))  # no lifespan here: no database is used

@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("boom")

async def main() -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        answer = await c.get("/boom", headers={"X-Request-ID": "boom-1"})
    print(answer.status_code, answer.headers.get("x-request-id"), answer.json()["detail"])

asyncio.run(main())
"""


def test_an_unexpected_error_is_answered_with_its_request_id() -> None:
    # Its own process: the app configures logging, which must not change this one's.
    env = {**os.environ, "AIDO_ENV_FILE": "", "DATABASE_URL": "postgresql://u:p@localhost/x"}
    done = subprocess.run([sys.executable, "-c", UNEXPECTED_ERROR_SCRIPT], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.stdout.split(maxsplit=2) == ["500", "boom-1", "Internal server error\n"], done
    assert "[boom-1] unhandled RuntimeError on GET /boom" in done.stderr, done.stderr
