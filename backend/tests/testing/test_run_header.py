"""A run of the suite says which database it used, with -q too."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2]


def test_a_quiet_run_names_its_database_source_and_server_version() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    env["AIDO_TEST_DB"] = "cluster"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/testing/test_postgres_provider.py::test_test_database_url_wins"],
        cwd=BACKEND, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("database: ")]
    # Under "collected N items" and again at the end of the run.
    assert len(lines) == 2, result.stdout
    assert lines[0].startswith("database: self-started cluster (")
    assert re.search(r", PostgreSQL \d+\.\d+ ", lines[0]), lines[0]
    assert lines[1] == lines[0]
    assert "[test-db] starting a throwaway PostgreSQL cluster" in result.stderr
