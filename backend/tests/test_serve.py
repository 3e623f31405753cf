"""`python -m aido` with two workers: on SIGTERM in-flight requests finish and new ones are
refused; both log one JSON format, migrate once, and their metrics add up."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.support.metrics import METRICS_TOKEN, scrape, value
from tests.support.server import run_server
from tests.support.users import unique_email

DURATION_COUNT = "aido_http_request_duration_seconds_count"


def test_sigterm_refuses_new_connections_at_once_and_finishes_the_request_in_flight(
    server_env: dict[str, str], log_dir: Path
) -> None:
    env = {**server_env, "WEB_CONCURRENCY": "2", "HTTP_BODY_TIMEOUT": "20"}
    with run_server(env, log_dir / "drain", command=[sys.executable, "-m", "aido"]) as server:
        body = json.dumps({"email": unique_email("drain"), "password": "correct horse b"})
        in_flight = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        # A sign-up whose body is half sent: the server is working on it when SIGTERM comes.
        in_flight.sendall(
            b"POST /auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n{body[:10]}".encode()
        )
        time.sleep(0.5)
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)

        refused_after = None
        while time.monotonic() - signalled < 5:
            try:
                socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
            except ConnectionRefusedError:
                refused_after = time.monotonic() - signalled
                break
            time.sleep(0.05)
        # The supervisor notices the signal within its 0.5 s tick.
        assert refused_after is not None and refused_after < 1.5, refused_after

        in_flight.sendall(body[10:].encode())
        in_flight.settimeout(30)
        answer = b""
        while chunk := in_flight.recv(65536):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 201 "), answer[:200]
        assert b"connection: close" in answer.lower()
        assert server.process.wait(timeout=30) == 0


def worker_pids(supervisor: int) -> list[int]:
    """The uvicorn workers `python -m aido` spawned (not multiprocessing's helpers)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == supervisor and b"spawn_main" in cmdline:
            pids.append(int(stat.parent.name))
    return sorted(pids)


def metrics_dir_of(pid: int) -> Path:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    (entry,) = [e for e in environ if e.startswith(b"PROMETHEUS_MULTIPROC_DIR=")]
    return Path(entry.split(b"=", 1)[1].decode())


def served_by_one(stopped: int, url: str, count: int) -> None:
    """`count` requests, each on a new connection, while the other worker is stopped: the
    running worker accepts them all."""
    os.kill(stopped, signal.SIGSTOP)
    try:
        for _ in range(count):
            assert httpx.get(url + "/users/me", timeout=5).status_code == 401
    finally:
        os.kill(stopped, signal.SIGCONT)


def test_two_workers_log_json_migrate_once_and_add_up_their_metrics(
    server_env: dict[str, str], log_dir: Path
) -> None:
    env = {**server_env, "WEB_CONCURRENCY": "2", "LOG_FORMAT": "json",
           "METRICS_TOKEN": METRICS_TOKEN, "DB_POOL_SIZE": "4", "DB_MAX_OVERFLOW": "2"}  # fmt: skip
    count = f'{DURATION_COUNT}{{method="GET",route="/users/me",status="401"}}'
    with run_server(env, log_dir / "two", command=[sys.executable, "-m", "aido"]) as server:
        deadline = time.monotonic() + 30
        while len(workers := worker_pids(server.process.pid)) < 2:
            assert time.monotonic() < deadline, "two workers never started"
            time.sleep(0.2)
        first, second = workers
        # The supervisor never loaded the app's libraries (the migration ran in a child).
        libraries = Path(f"/proc/{server.process.pid}/maps").read_text()
        for library in ("psycopg_binary", "sqlalchemy", "argon2"):
            assert library not in libraries, f"the supervisor loaded {library}"
        metrics_dir = metrics_dir_of(first)
        assert metrics_dir_of(second) == metrics_dir and metrics_dir.is_dir()

        # Each worker serves some requests while the other is stopped; a scrape answered by
        # either one counts them all.
        served_by_one(first, server.url, 7)
        served_by_one(second, server.url, 5)
        os.kill(first, signal.SIGSTOP)
        try:
            by_second = scrape(server.url)
        finally:
            os.kill(first, signal.SIGCONT)
        os.kill(second, signal.SIGSTOP)
        try:
            by_first = scrape(server.url)
        finally:
            os.kill(second, signal.SIGCONT)
        for samples in (by_second, by_first):
            assert value(samples, DURATION_COUNT, method="GET", route="/users/me",
                         status="401") == 12, count  # fmt: skip
            assert value(samples, "aido_db_pool_max_connections") == 2 * (4 + 2)

        # A worker killed outright is replaced: its counts stay, its pool leaves the gauges.
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:
            samples = scrape(server.url)
            replaced = [p for p in worker_pids(server.process.pid) if p != first]
            if len(replaced) == 2 and value(samples, "aido_db_pool_max_connections") == 12:
                break
            assert time.monotonic() < deadline, "the killed worker was never replaced"
            time.sleep(0.3)
        assert not list(metrics_dir.glob(f"gauge_livesum_{first}.db"))
        assert value(samples, DURATION_COUNT, method="GET", route="/users/me",
                     status="401") == 12  # fmt: skip
    assert server.process.returncode == 0
    assert not metrics_dir.exists(), "the metrics directory outlived the server"

    lines = server.log().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    for entry in entries:
        assert {"time", "level", "logger", "message", "request_id"} <= entry.keys(), entry
        assert entry["time"].endswith("Z")
    loggers = Counter(e["logger"] for e in entries)
    assert loggers["aido.migrate"] == 1, "migrations ran more than once"
    messages = [e["message"] for e in entries if e["logger"] == "uvicorn.error"]
    assert any(m.startswith("Started parent process") for m in messages)  # the supervisor
    assert sum(m.startswith("Started server process") for m in messages) == 3  # 2 + 1 replaced
    access = [e for e in entries if e["logger"] == "aido.access"]
    assert {e["route"] for e in access} == {"/users/me"}  # /metrics is at DEBUG, as probes
    assert all(e["request_id"] and e["status"] in (200, 401) for e in access)
