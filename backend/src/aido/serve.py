"""`aido-serve` / `python -m aido`: the production entry point used by the Dockerfile.

Validates settings and brings the schema to head once, before forking WEB_CONCURRENCY
workers (each worker's own start-up check then finds the schema ready).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import uvicorn

from aido.core.config import ConfigError, get_settings
from aido.core.logging import configure_logging
from aido.db.engine import build_engine
from aido.db.session import Database
from aido.db.startup import StartupError, prepare_database

log = logging.getLogger("aido.serve")


async def _prepare() -> None:
    settings = get_settings()
    db = Database(build_engine(settings, application_name="aido-migrate"), settings)
    try:
        await prepare_database(db, settings)
    finally:
        await db.engine.dispose()


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
    uvicorn.run(
        "aido.main:app",
        host=settings.API_HOST,
        port=settings.API_PORT,
        workers=workers,
        proxy_headers=True,
        # Trusting every peer's X-Forwarded-For would let any client pick its own address and
        # escape the per-client log-in limit: only a proxy on this host is trusted by default.
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        access_log=os.environ.get("ACCESS_LOG", "true").lower() != "false",
        log_level=settings.LOG_LEVEL.lower(),
    )


if __name__ == "__main__":
    main()
