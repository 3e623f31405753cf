"""Run the backend as a real server process, the way users and containers run it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from aido.testing.ports import free_port

SERVER_START_TIMEOUT = 60.0


@dataclass
class Server:
    url: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def base_env(**overrides: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DB_", "JWT_", "LOGIN_", "SIGNUP_", "PASSWORD_HASH_", "TOKEN_"))
    }
    env.pop("WEB_CONCURRENCY", None)
    env.pop("DATABASE_URL", None)
    env.pop("DATABASE_DIRECT_URL", None)
    env["AIDO_ENV_FILE"] = ""  # the developer's .env never leaks into a test
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


def wait_live(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}:\n{log_path.read_text()[-3000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/health/live", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server not live after {timeout}s:\n{log_path.read_text()[-3000:]}")


@contextlib.contextmanager
def run_server(
    env: dict[str, str],
    log_dir: Path,
    *,
    command: list[str] | None = None,
    wait: bool = True,
    timeout: float = SERVER_START_TIMEOUT,
) -> Iterator[Server]:
    """Start `uvicorn aido.main:app` (or `command`) with exactly `env` (see base_env)."""
    port = int(env.get("API_PORT") or free_port())
    env = {**env, "API_PORT": str(port)}
    argv = command or [
        sys.executable, "-m", "uvicorn", "aido.main:app", "--host", "127.0.0.1",
        "--port", str(port),
    ]  # fmt: skip
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"server-{port}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(argv, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", port, log_path, process)
    try:
        if wait:
            wait_live(server.url, process, log_path, timeout)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
