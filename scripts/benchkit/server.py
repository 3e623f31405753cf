"""The backend as production runs it: `python -m aido` (uvicorn, WEB_CONCURRENCY workers)."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from aido.testing.ports import free_port
from benchkit.progress import say

# Per worker, below the throwaway cluster's max_connections=200 with room for the rest.
MAX_POOL_PER_WORKER = 64


@dataclass
class Server:
    url: str
    workers: int
    pool_size: int
    log_path: Path
    process: subprocess.Popen[bytes]


def pool_size(concurrency: int, workers: int) -> int:
    """Each worker holds enough connections for all the load it may get: the kernel does not
    spread connections evenly across workers, and an overflow connection is closed when it
    returns, so an undersized pool would reconnect under load instead of measuring it."""
    return max(2, min(concurrency, MAX_POOL_PER_WORKER, 150 // workers))


def wait_live(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the backend exited with {process.returncode}:\n{tail}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/health/live", timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the backend did not answer /health/live within {timeout:.0f}s")


@contextlib.contextmanager
def run_server(
    database_url: str,
    *,
    workers: int,
    concurrency: int,
    direct_url: str | None = None,
    prepared_statements: str = "auto",
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """`direct_url`: DATABASE_DIRECT_URL, when `database_url` goes through a pooler;
    `extra_env`: settings over the bench's own (benchkit.observability)."""
    port = free_port()
    size = pool_size(concurrency, workers)
    env = {
        **os.environ,
        "AIDO_ENV_FILE": "",  # only what is set here: no developer .env
        "DATABASE_URL": database_url,
        "DB_PREPARED_STATEMENTS": prepared_statements,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "warning",
        "DB_POOL_SIZE": str(size),
        "DB_MAX_OVERFLOW": "0",
        # POST /tasks measures the insert, not the per-user create quota (16 connections
        # create ~100 tasks a second per user here; the default allows 300 a minute).
        "TASK_CREATES_PER_WINDOW": "1000000",
        "TASKS_MAX_PER_USER": "10000000",
    }
    env.pop("DATABASE_DIRECT_URL", None)
    if direct_url:
        env["DATABASE_DIRECT_URL"] = direct_url
    env.update(extra_env or {})
    log_path = Path(tempfile.mkstemp(prefix="aido-bench-server-", suffix=".log")[1])
    say(f"starting the backend: python -m aido, {workers} workers, pool {size}/worker, "
        f"port {port}")  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "aido"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers stop with it
        )
    with served(process, port, log_path, "the backend") as url:
        say("backend is live")
        yield Server(url, workers, size, log_path, process)


@contextlib.contextmanager
def served(process: subprocess.Popen[bytes], port: int, log_path: Path, what: str) -> Iterator[str]:
    """The URL of a server process once it is live; stopped after. Its log is deleted when the
    run went well, and kept (and its path said) when anything failed."""
    url = f"http://127.0.0.1:{port}"
    try:
        wait_live(url, process, log_path, timeout=90)
        yield url
    except BaseException:
        say(f"{what}'s log is kept in {log_path}")
        raise
    else:
        log_path.unlink(missing_ok=True)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
