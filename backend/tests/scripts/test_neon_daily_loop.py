"""A developer's day on Neon: `branch reset NAME` and `psql [--branch NAME]`, on the emulator.

psql is the real one (Debian's postgresql-client); the data lives in the emulator's Postgres.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import psycopg
from dotenv import dotenv_values

from tests.scripts.conftest import INTERPRETER, SCRIPT, Neon
from tests.support.database import libpq, query
from tests.support.neon_emulator import NeonEmulator


def direct_url(neon: Neon, branch: str | None = None) -> str:
    path = neon.cwd / f".env.{branch or 'main'}"
    args = ["env", "--file", str(path)] + (["--branch", branch] if branch else [])
    assert neon(*args).code == 0
    url = dotenv_values(path)["DATABASE_DIRECT_URL"]
    assert url
    return url


def execute(url: str, *statements: str) -> None:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def test_branch_reset_brings_back_the_parents_latest_state(neon: Neon) -> None:
    assert neon("provision").code == 0
    main = direct_url(neon)
    execute(main, "CREATE TABLE items (x int)", "INSERT INTO items VALUES (1)")
    assert neon("branch", "create", "dev").code == 0
    dev = direct_url(neon, "dev")
    execute(dev, "INSERT INTO items VALUES (2)", "CREATE TABLE scratch (y int)")
    execute(main, "INSERT INTO items VALUES (3)")  # the parent moves on after the fork
    assert query(dev, "SELECT x FROM items ORDER BY x") == [(1,), (2,)]

    reset = neon("branch", "reset", "dev", "--json")
    assert reset.code == 0, reset.stderr
    assert "waiting for operations" in reset.stderr and "connection strings are unchanged" in (
        reset.stderr
    )
    assert json.loads(reset.stdout)["branch"] == "dev"
    assert direct_url(neon, "dev") == dev  # same host, same credentials
    assert query(dev, "SELECT x FROM items ORDER BY x") == [(1,), (3,)]  # the parent's latest
    assert query(dev, "SELECT to_regclass('scratch') IS NULL") == [(True,)]
    assert query(main, "SELECT x FROM items ORDER BY x") == [(1,), (3,)]  # parent untouched


def test_branch_reset_refusals(neon: Neon, emulator: NeonEmulator) -> None:
    assert neon("provision").code == 0
    root = neon("branch", "reset", "main")
    assert root.code == 2 and "no parent branch" in root.stderr
    assert neon("branch", "reset", "nope").code == 5

    assert neon("branch", "create", "dev").code == 0
    assert neon("branch", "create", "dev-child", "--parent", "dev").code == 0
    with_child = neon("branch", "reset", "dev")
    assert with_child.code == 2
    assert "dev-child" in with_child.stderr and "--preserve-under-name" in with_child.stderr
    assert emulator.count("POST", "/restore") == 0  # refused before asking Neon

    kept = neon("branch", "reset", "dev", "--preserve-under-name", "dev-before-reset")
    assert kept.code == 0, kept.stderr
    branches = {b["name"]: b for b in json.loads(neon("branch", "list", "--json").stdout)}
    assert set(branches) == {"main", "dev", "dev-child", "dev-before-reset"}
    assert branches["dev-child"]["parent_id"] == branches["dev-before-reset"]["id"]


def test_psql_runs_on_the_direct_host(neon: Neon, emulator: NeonEmulator) -> None:
    assert neon("provision").code == 0
    assert neon("branch", "create", "dev").code == 0
    result = neon("psql", "--branch", "dev", "--", "-AtX", "-c", "SELECT current_database()")
    assert result.code == 0, result.stderr
    project = next(iter(emulator.projects.values()))
    dev_id = next(b for b in project.branches.values() if b["name"] == "dev")["id"]
    assert result.stdout.strip() == project.databases[dev_id][0]["name"]
    assert "-pooler" not in result.stderr and "psql on ep-" in result.stderr
    default = neon("psql", "--", "-AtX", "-c", "SELECT current_user")
    assert default.stdout.strip() == project.databases[dev_id][0]["owner_name"]


def test_psql_gets_the_password_from_the_environment_not_argv(
    neon: Neon, emulator: NeonEmulator
) -> None:
    assert neon("provision").code == 0
    password = emulator.password_of(next(iter(emulator.projects)))
    proc = subprocess.Popen(
        [*INTERPRETER, str(SCRIPT), "psql", "--", "-AtX"],
        env=neon.env, cwd=neon.cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        proc_dir = Path(f"/proc/{proc.pid}")
        deadline = time.monotonic() + 20
        argv: list[str] = []
        while time.monotonic() < deadline:  # scripts/neon execs psql in the same process
            argv = (proc_dir / "cmdline").read_bytes().decode().split("\0")
            if os.path.basename(argv[0]) == "psql":
                break
            time.sleep(0.05)
        assert os.path.basename(argv[0]) == "psql", argv
        environ = (proc_dir / "environ").read_bytes().decode().split("\0")
        assert f"PGPASSWORD={password}" in environ
        assert not any(password in arg for arg in argv)
        out, err = proc.communicate("SELECT 40 + 2;\n", timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.strip() == "42"
    assert password not in out + err


def test_psql_missing_is_one_clear_line(neon: Neon, tmp_path: Path) -> None:
    assert neon("provision").code == 0
    empty = tmp_path / "no-psql-here"
    empty.mkdir()
    missing = neon("psql", PATH=str(empty))
    assert missing.code == 14
    assert "psql is not installed" in missing.stderr and "postgresql-client" in missing.stderr
