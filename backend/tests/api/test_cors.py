"""CORS allows FRONTEND_URL only: other origins get no Access-Control-Allow-Origin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import Server, run_server

# Not the default (http://localhost:3000): the test proves the setting is read.
FRONTEND = "https://app.aido.test"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
}


@pytest.fixture(scope="module")
def cors_server(server_env: dict[str, str], log_dir: Path) -> Iterator[Server]:
    with run_server({**server_env, "FRONTEND_URL": FRONTEND + "/"}, log_dir / "cors") as server:
        yield server


def test_frontend_origin_is_allowed(cors_server: Server) -> None:
    with httpx.Client(base_url=cors_server.url) as c:
        simple = c.get("/health/live", headers={"Origin": FRONTEND})
        assert simple.headers["access-control-allow-origin"] == FRONTEND
        exposed = {
            h.strip().lower() for h in simple.headers["access-control-expose-headers"].split(",")
        }
        assert {"retry-after", "idempotent-replayed"} <= exposed
        preflight = c.options("/tasks", headers={"Origin": FRONTEND, **PREFLIGHT})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == FRONTEND
    allowed = preflight.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "idempotency-key"):
        assert header in allowed
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_other_origins_get_no_allow_origin(cors_server: Server) -> None:
    origins = ["https://evil.example", "http://app.aido.test", "https://app.aido.test.evil.example",
               "http://localhost:3000", "null"]  # fmt: skip
    with httpx.Client(base_url=cors_server.url) as c:
        for origin in origins:
            simple = c.get("/health/live", headers={"Origin": origin})
            preflight = c.options("/tasks", headers={"Origin": origin, **PREFLIGHT})
            assert simple.status_code == 200
            assert "access-control-allow-origin" not in simple.headers, origin
            assert "access-control-allow-origin" not in preflight.headers, origin
            assert preflight.status_code == 400, origin
