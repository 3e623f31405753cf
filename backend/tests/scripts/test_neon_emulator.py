"""The emulator itself: Neon's documented shapes, and its subprocess mode with control endpoints.

The scripts/neon tests are only as good as the emulator's likeness to Neon, so the shapes from
the Neon API notes are checked here directly, over raw HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.scripts.conftest import run_neon, script_env
from tests.support import neon_emulator
from tests.support.database import query
from tests.support.neon_emulator import DEFAULT_KEY, NeonEmulator


def call(
    base: str, method: str, path: str, body: Any = None, key: str = DEFAULT_KEY
) -> tuple[int, dict[str, str], Any]:
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={
            "Authorization": f"Bearer {key}",
            "X-Request-ID": "req-1",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def test_create_answers_201_with_neons_shape(emulator: NeonEmulator, pg_admin_url: str) -> None:
    status, _, body = call(emulator.base_url, "POST", "/projects", {"project": {"name": "shape"}})
    assert status == 201
    assert {"project", "connection_uris", "roles", "databases", "operations", "branch",
            "endpoints"} <= set(body)  # fmt: skip
    params = body["connection_uris"][0]["connection_parameters"]
    assert params["pooler_host"] == params["host"].replace(".", "-pooler.", 1)
    assert body["roles"][0]["password"].startswith("npg_")
    assert {op["status"] for op in body["operations"]} == {"running"}
    assert body["branch"]["current_state"] == "init"
    assert body["endpoints"][0]["type"] == "read_write"
    # The role and database exist in the real Postgres behind it.
    role = body["roles"][0]["name"]
    assert query(pg_admin_url, "SELECT 1 FROM pg_roles WHERE rolname = %s", role) == [(1,)]

    pid = body["project"]["id"]
    assert call(emulator.base_url, "POST", f"/projects/{pid}/branches", {"branch": {}})[0] == 423
    op_id = body["operations"][0]["id"]
    for _ in range(50):
        _, _, op = call(emulator.base_url, "GET", f"/projects/{pid}/operations/{op_id}")
        if op["operation"]["status"] == "finished":
            break
        time.sleep(0.05)
    assert op["operation"]["status"] == "finished"


def test_errors_and_pagination_shapes(emulator: NeonEmulator) -> None:
    status, _, body = call(emulator.base_url, "GET", "/projects", key="bad")
    assert status == 401 and set(body) == {"code", "message", "request_id"}
    assert body["request_id"] == "req-1"
    status, _, body = call(emulator.base_url, "POST", "/projects", {})
    assert status == 400 and "project (field required)" in body["message"]
    # The emulator's contract check saw that request break the document, and said so.
    assert emulator.take_violations() == [
        "request POST /projects (createProject): InvalidRequestBody: "
        "'project' is a required property"
    ]
    assert call(emulator.base_url, "GET", "/projects/nope-1")[0] == 404

    emulator.seed_projects(3)
    _, _, page = call(emulator.base_url, "GET", "/projects?limit=2")
    assert len(page["projects"]) == 2
    cursor = page["pagination"]["cursor"]
    _, _, last = call(emulator.base_url, "GET", f"/projects?limit=2&cursor={cursor}")
    assert len(last["projects"]) == 1 and last["pagination"]["cursor"]  # set on the last page

    emulator.inject(429, retry_after=2)
    status, headers, _ = call(emulator.base_url, "GET", "/projects")
    assert status == 429 and headers["Retry-After"] == "2"


def test_runs_as_a_subprocess_with_control_endpoints(pg_admin_url: str, tmp_path: Path) -> None:
    env = {"NEON_EMULATOR_ADMIN_URL": pg_admin_url, "PATH": os.environ.get("PATH", "")}
    proc = subprocess.Popen(
        [sys.executable, neon_emulator.__file__], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:") and base.endswith("/api/v2")
        control = base.removesuffix("/api/v2") + "/_emulator"
        fault = {"status": 503, "count": 100}
        urllib.request.urlopen(  # noqa: S310 - loopback
            urllib.request.Request(control + "/faults", data=json.dumps(fault).encode()),
            timeout=10,
        ).close()
        result = run_neon("projects", env=script_env(base), cwd=tmp_path)
        assert result.code == 7
        with urllib.request.urlopen(control + "/requests", timeout=10) as resp:  # noqa: S310
            assert len(json.loads(resp.read())["requests"]) == 4
        urllib.request.urlopen(  # noqa: S310
            urllib.request.Request(control + "/reset", data=b"{}"), timeout=10
        ).close()
        assert run_neon("provision", env=script_env(base), cwd=tmp_path).code == 0
        with urllib.request.urlopen(control + "/violations", timeout=10) as resp:  # noqa: S310
            assert json.loads(resp.read()) == {"violations": []}  # checked there too
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert proc.returncode == 0
    # Stopping dropped what it created.
    leftovers = query(pg_admin_url, "SELECT 1 FROM pg_roles WHERE rolname LIKE 'neondb_owner_%%'")
    assert leftovers == []
