"""SIGTERM on `python -m aido` with two workers: in-flight requests finish, new ones are refused."""

from __future__ import annotations

import json
import signal
import socket
import sys
import time
from pathlib import Path

from tests.support.server import run_server
from tests.support.users import unique_email


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
