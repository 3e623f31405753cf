"""The stack's best case (`bench/reference_app.py`), served beside the API in the same run.

Same workers, the same pool size per worker, the same database and the same wrk requests as the
API's cases; the table then gives, per case, the API's server CPU per request against it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from aido.testing.ports import free_port
from benchkit.progress import say
from benchkit.server import Server, served

ROOT = Path(__file__).resolve().parents[2]
# The API's cases that have a counterpart in the reference app.
CASES = ("GET /tasks first page (50)", "POST /tasks", "PATCH /tasks/{id} (complete)")
PREFIX = "reference: "


def name_of(case: str) -> str:
    return PREFIX + case


@contextlib.contextmanager
def run_reference(
    conninfo: str, owners: list[uuid.UUID], *, workers: int, pool_size: int
) -> Iterator[Server]:
    port = free_port()
    env = {
        **os.environ,
        "REFERENCE_DATABASE_URL": conninfo,
        "REFERENCE_POOL_SIZE": str(pool_size),
        "REFERENCE_OWNERS": ",".join(str(o) for o in owners),
    }
    log_path = Path(tempfile.mkstemp(prefix="aido-bench-reference-", suffix=".log")[1])
    say(f"starting the reference app: {workers} workers, pool {pool_size}/worker, port {port}")
    argv = [sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "bench"), "reference_app:app",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--no-access-log", "--log-level", "warning"]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
    with served(process, port, log_path, "the reference app") as url:
        yield Server(url, workers, pool_size, log_path, process)
