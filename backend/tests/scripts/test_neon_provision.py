"""scripts/neon end to end against the Neon API emulator, with the backend as a real process."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg
import pytest
from dotenv import dotenv_values

from tests.scripts.conftest import INTERPRETER, SCRIPT, Neon
from tests.support.database import libpq, query
from tests.support.neon_emulator import NeonEmulator
from tests.support.server import base_env, run_server


def read_env(path: Path) -> dict[str, str]:
    """The file as the app's own reader (python-dotenv, under pydantic-settings) sees it."""
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def pg_databases(admin_url: str) -> set[str]:
    return {str(r[0]) for r in query(admin_url, "SELECT datname FROM pg_database")}


@pytest.mark.slow
def test_provision_env_serve_reprovision_delete(
    neon: Neon, emulator: NeonEmulator, tmp_path: Path, pg_admin_url: str
) -> None:
    first = neon("provision", "--json")
    assert first.code == 0, first.stderr
    info = json.loads(first.stdout)
    assert info["created"] is True
    assert "waiting for operations" in first.stderr  # progress shown while Neon works
    assert info["pooler_host"] == info["host"].replace(".", "-pooler.", 1)
    pid = info["project_id"]

    env_file = tmp_path / ".env.neon"
    written = neon("env", "--file", str(env_file))
    assert written.code == 0, written.stderr
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = read_env(env_file)
    assert values["NEON_PROJECT_ID"] == pid
    assert values["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert f"@{info['pooler_host']}:" in values["DATABASE_URL"]
    assert f"@{info['host']}:" in values["DATABASE_DIRECT_URL"]
    password = emulator.password_of(pid)
    assert password in values["DATABASE_URL"]  # the file is the one place it goes

    # The backend, as a real process configured only by that file (its JWT_SECRET too),
    # migrates and serves.
    server_env = base_env(AIDO_ENV_FILE=str(env_file), WEB_CONCURRENCY="1")
    with run_server(server_env, tmp_path / "logs", command=[sys.executable, "-m", "aido"]) as srv:
        health = httpx.get(srv.url + "/health", timeout=10)
        assert health.status_code == 200, health.text
        assert health.json() == {"status": "healthy", "database": "connected"}
        signup = httpx.post(
            srv.url + "/auth/signup",
            json={"email": "neon@example.com", "password": "correct horse battery"},
            timeout=10,
        )
        assert signup.status_code == 201, signup.text
        tables = {
            str(r[0])
            for r in query(
                values["DATABASE_DIRECT_URL"],
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
            )
        }
        assert {"user", "task", "alembic_version"} <= tables
        users = query(values["DATABASE_DIRECT_URL"], 'SELECT email FROM "user"')
        assert users == [("neon@example.com",)]
    log = srv.log()
    assert password not in log and values["JWT_SECRET"] not in log
    assert "JWT_SECRET is the development default" not in log  # the file's own secret

    # Safe to run twice: the same project, nothing created.
    posts_before = emulator.count("POST", "/projects")
    again = neon("provision", "--json")
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout) == {**info, "created": False}
    assert emulator.count("POST", "/projects") == posts_before
    assert len(emulator.projects) == 1

    database = info["database"]
    assert database in pg_databases(pg_admin_url)
    assert neon("delete", "--yes", "--name", "aido-todo").code == 0
    assert json.loads(neon("projects", "--json").stdout) == []
    assert database not in pg_databases(pg_admin_url)
    assert neon("delete", "--yes", "--name", "aido-todo").code == 0  # nothing left: still fine


def test_provision_reuses_exact_name_only_and_refuses_duplicates(
    neon: Neon, emulator: NeonEmulator
) -> None:
    emulator.handle("POST", "/projects", {}, {"project": {"name": "aido-todo-old"}})
    created = neon("provision", "--json")
    assert created.code == 0, created.stderr
    assert json.loads(created.stdout)["created"] is True  # a longer name is not a match

    emulator.handle("POST", "/projects", {}, {"project": {"name": "aido-todo"}})
    ids = sorted(p.data["id"] for p in emulator.projects.values() if p.data["name"] == "aido-todo")
    refused = neon("provision")
    assert refused.code == 11
    assert all(pid in refused.stderr for pid in ids)
    assert neon("delete", "--yes", "--name", "aido-todo").code == 11
    assert len(emulator.projects) == 3


def test_provision_passes_region_and_version_and_warns_on_mismatch(
    neon: Neon, emulator: NeonEmulator
) -> None:
    made = neon("provision", "--region", "aws-eu-central-1", "--pg-version", "16", "--json")
    assert made.code == 0, made.stderr
    info = json.loads(made.stdout)
    assert (info["region"], info["pg_version"]) == ("aws-eu-central-1", 16)
    assert info["host"].endswith(".eu-central-1.aws.neon.test")
    reused = neon("provision", "--region", "aws-us-east-2", "--pg-version", "17")
    assert reused.code == 0
    assert "not aws-us-east-2" in reused.stderr and "not 17" in reused.stderr


def test_projects_follow_pagination(neon: Neon, emulator: NeonEmulator) -> None:
    # 250 projects whose names contain "aido-todo": the search returns three pages of 100,
    # and the one exactly named "aido-todo" comes last.
    emulator.seed_projects(250, prefix="aido-todo")
    listed = neon("projects", "--json")
    assert listed.code == 0, listed.stderr
    assert len({p["id"] for p in json.loads(listed.stdout)}) == 250
    assert emulator.count("GET", "/api/v2/projects") == 3

    assert neon("provision").code == 0
    again = neon("provision", "--json")
    assert again.code == 0
    assert json.loads(again.stdout)["created"] is False
    assert sum(p.data["name"] == "aido-todo" for p in emulator.projects.values()) == 1
    table = neon("projects", "--search", "aido-todo-024")
    assert table.stdout.splitlines()[0].split()[:2] == ["ID", "NAME"]
    assert len(table.stdout.splitlines()) == 1 + 10


def test_connection_string_forms(neon: Neon, emulator: NeonEmulator, tmp_path: Path) -> None:
    assert neon("provision").code == 0
    pid = next(iter(emulator.projects))
    password = emulator.password_of(pid)

    pooled = neon("connection-string")
    assert pooled.code == 0
    url = pooled.stdout.strip()
    assert url.startswith("postgresql+psycopg://") and ":***@" in url and "-pooler." in url
    direct = neon("connection-string", "--direct", "--json")
    data = json.loads(direct.stdout)
    assert data["pooled"] is False and "-pooler" not in data["host"] and ":***@" in data["url"]

    shown = neon("connection-string", "--direct", "--show-password").stdout.strip()
    assert password in shown
    with psycopg.connect(libpq(shown), connect_timeout=5) as conn:  # it really connects
        assert conn.execute("SELECT current_user").fetchone() == (data["role"],)

    out = tmp_path / "url.txt"
    with out.open("w") as handle:  # stdout is a file: the password is written there
        code = subprocess.run(
            [*INTERPRETER, str(SCRIPT), "connection-string"],
            env=neon.env,
            stdout=handle,
            check=False,
        ).returncode
    assert code == 0 and password in out.read_text()


def test_connection_string_carries_neon_tls_parameters(pg_admin_url: str, tmp_path: Path) -> None:
    # As Neon answers (sslmode=require): channel binding is added. Shape only, no connection.
    with NeonEmulator(pg_admin_url, op_seconds=0.05, sslmode="require") as emu:
        runner = Neon(emu, tmp_path)
        assert runner("provision").code == 0
        for flag in ("--pooled", "--direct"):
            url = runner("connection-string", flag).stdout.strip()
            assert url.startswith("postgresql+psycopg://")
            assert "?sslmode=require&channel_binding=require" in url
        runner.assert_no_password_leaked()
        emu.assert_contract_kept()


def test_branch_create_list_env_delete(neon: Neon, emulator: NeonEmulator, tmp_path: Path) -> None:
    provision = neon("provision", "--json")
    main_db = json.loads(provision.stdout)
    main_env = tmp_path / "main.env"
    assert neon("env", "--file", str(main_env)).code == 0
    with psycopg.connect(libpq(read_env(main_env)["DATABASE_DIRECT_URL"])) as conn:
        conn.execute("CREATE TABLE parent_data (x int)")
        conn.execute("INSERT INTO parent_data VALUES (42)")

    made = neon("branch", "create", "dev-alice", "--expires-in", "2h", "--json")
    assert made.code == 0, made.stderr
    branch = json.loads(made.stdout)
    assert branch["branch"] == "dev-alice" and branch["expires_at"]
    assert branch["endpoint_id"] and branch["endpoint_id"] != main_db["endpoint_id"]
    posts = emulator.count("POST", "/branches")
    assert neon("branch", "create", "dev-alice").code == 0  # exists: reused
    assert emulator.count("POST", "/branches") == posts

    listed = json.loads(neon("branch", "list", "--json").stdout)
    assert sorted(b["name"] for b in listed) == ["dev-alice", "main"]

    dev_env = tmp_path / "dev.env"
    assert neon("env", "--branch", "dev-alice", "--file", str(dev_env)).code == 0
    dev_url = read_env(dev_env)["DATABASE_DIRECT_URL"]
    assert branch["host"] in dev_url
    assert query(dev_url, "SELECT x FROM parent_data") == [(42,)]  # a copy of the parent

    assert neon("branch", "delete", "main").code == 2  # the default branch stays
    assert neon("branch", "delete", "dev-alice").code == 0
    assert [b["name"] for b in json.loads(neon("branch", "list", "--json").stdout)] == ["main"]
    assert neon("branch", "delete", "dev-alice").code == 0  # already gone: nothing to do
    assert neon("env", "--branch", "dev-alice", "--file", str(dev_env)).code == 5
    assert neon("branch", "create", "x", "--expires-in", "soon").code == 2


def test_operation_failure_is_reported(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.fail_operations("start_compute", "compute quota exceeded")
    failed = neon("provision")
    assert failed.code == 9
    assert "start_compute" in failed.stderr and "compute quota exceeded" in failed.stderr


def test_operation_wait_is_bounded(neon: Neon, emulator: NeonEmulator) -> None:
    emulator.op_seconds = 30
    slow = neon("provision", NEON_MAX_WAIT="0.5")
    assert slow.code == 10
    assert "NEON_MAX_WAIT" in slow.stderr
