"""N backend replicas as real `python -m aido` processes (the image's command) on one database."""

from __future__ import annotations

import contextlib
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from aido.testing.ports import free_port
from tests.support.server import Server, base_env, run_server, wait_live

SERVE = [sys.executable, "-m", "aido"]


@dataclass
class ReplicaSet:
    """Replicas started under one ExitStack; a killed one can be replaced on its own port."""

    env: dict[str, str]
    log_dir: Path
    stack: contextlib.ExitStack
    servers: list[Server] = field(default_factory=list)

    def start(self, count: int) -> None:
        """Start `count` replicas at once, without waiting for them (see wait_live)."""
        for _ in range(count):
            self.servers.append(self._spawn(free_port()))

    def _spawn(self, port: int) -> Server:
        env = {**self.env, "API_HOST": "127.0.0.1", "API_PORT": str(port)}
        return self.stack.enter_context(
            run_server(env, self.log_dir / f"replica-{port}", command=SERVE, wait=False)
        )

    def wait_live(self, timeout: float = 90) -> None:
        for server in self.servers:
            wait_live(server.url, server.process, server.log_path, timeout)

    @property
    def ports(self) -> list[int]:
        return [s.port for s in self.servers]

    def kill(self, index: int) -> None:
        """SIGKILL: no graceful shutdown, as when a node or container dies."""
        process = self.servers[index].process
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def replace(self, index: int) -> None:
        """A new replica on the dead one's port, so the proxy's upstream list stays right."""
        assert self.servers[index].process.poll() is not None, "replica still running"
        self.servers[index] = self._spawn(self.servers[index].port)
        server = self.servers[index]
        wait_live(server.url, server.process, server.log_path, timeout=90)


def replica_env(database_url: str, jwt_secret: str, **overrides: str) -> dict[str, str]:
    # JWT_SECRET is pinned: every replica must verify every other replica's tokens, whatever
    # the app would choose for an unset secret.
    return base_env(
        DATABASE_URL=database_url, JWT_SECRET=jwt_secret, WEB_CONCURRENCY="1", **overrides
    )
