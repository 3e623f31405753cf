"""`aido-serve` / `python -m aido`: the production entry point used by the Dockerfile.

Validates settings and brings the schema to head once, before forking WEB_CONCURRENCY
workers (each worker's own start-up check then finds the schema ready). Serves with uvicorn
and the connection bounds of `aido.http_guard`; on SIGTERM it stops accepting at once
(new connections are refused), lets requests in flight finish within HTTP_DRAIN_TIMEOUT,
then exits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from aido.core.config import ConfigError, Settings, get_settings
from aido.core.logging import configure_logging
from aido.db.database import Database
from aido.db.startup import StartupError, prepare_database

log = logging.getLogger("aido.serve")


async def _prepare() -> None:
    settings = get_settings()
    db = Database(settings, application_name="aido-migrate")
    await db.open()
    try:
        await prepare_database(db, settings)
    finally:
        await db.close()


def main() -> None:
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.LOG_LEVEL)
    try:
        asyncio.run(_prepare())
    except StartupError as exc:
        log.critical("start-up failed: %s", exc)
        raise SystemExit(3) from None
    workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)
    config = server_config(settings, workers)
    if workers > 1:
        DrainingMultiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        # One process: uvicorn's own SIGTERM handling closes the listener first.
        uvicorn.Server(config).run()


def server_config(settings: Settings, workers: int) -> uvicorn.Config:
    return uvicorn.Config(
        "aido.main:app",
        host=settings.API_HOST,
        port=settings.API_PORT,
        workers=workers,
        http="aido.http_guard:GuardedHttpToolsProtocol",
        timeout_keep_alive=settings.HTTP_KEEPALIVE_TIMEOUT,
        timeout_graceful_shutdown=settings.HTTP_DRAIN_TIMEOUT,
        proxy_headers=True,
        # Trusting every peer's X-Forwarded-For would let any client pick its own address and
        # escape the per-client log-in limit: only a proxy on this host is trusted by default.
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        access_log=os.environ.get("ACCESS_LOG", "true").lower() != "false",
        log_level=settings.LOG_LEVEL.lower(),
        # Names the server software and version to every client, for nothing.
        server_header=False,
    )


class DrainingMultiprocess(Multiprocess):
    """uvicorn's supervisor, but the parent closes its listening socket on SIGTERM/SIGINT.

    uvicorn's parent keeps its copy open until the workers have drained and it exits: the
    kernel then goes on completing connections nobody will accept, and resets them all when
    the parent exits (the client sees a hang, then a reset). With the parent's copy closed,
    and each worker closing its own as it starts draining, a new connection is refused at
    once, which clients and load balancers handle as "try elsewhere".
    """

    def _stop_listening(self) -> None:
        for sock in self.sockets:
            sock.close()

    def handle_term(self) -> None:
        self._stop_listening()
        super().handle_term()

    def handle_int(self) -> None:
        self._stop_listening()
        super().handle_int()


if __name__ == "__main__":
    main()
