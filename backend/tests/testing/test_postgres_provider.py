"""The suite's database sources: the self-started cluster works with no Docker engine."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
from aido.testing.postgres import provide_postgres, wait_until_ready
import psycopg
with provide_postgres() as url:
    wait_until_ready(url)
    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo) as conn:
        print("answer", conn.execute("SELECT 40 + 2").fetchone()[0])
"""


def test_self_started_cluster_when_no_docker_engine_answers() -> None:
    dropped = ("TEST_DATABASE_URL", "AIDO_TEST_DB")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TESTCONTAINERS_", "DOCKER_")) and k not in dropped
    }
    env["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "answer 42" in result.stdout
    assert "throwaway PostgreSQL cluster" in result.stderr
    assert "container" not in result.stderr


def test_test_database_url_wins(database_url: str) -> None:
    env = {**os.environ, "TEST_DATABASE_URL": database_url}
    env.pop("AIDO_TEST_DB", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "using TEST_DATABASE_URL" in result.stderr
    assert "answer 42" in result.stdout
