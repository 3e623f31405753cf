"""The ASGI app, built by a factory: `uvicorn --factory aido.main:create_app` serves it once
the package is installed (`python -m aido` is the production entry point, aido/serve.py)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from aido.api.accounts import start_accounts
from aido.api.edge import HttpEdge
from aido.api.errors import install_error_handlers
from aido.api.request_observer import RequestObserver
from aido.api.routes import auth, health, metrics, tasks, users
from aido.core.config import ConfigError, Settings, get_settings, requested_log_format
from aido.core.heap import freeze_startup_objects
from aido.core.logging import configure_logging, fatal_line
from aido.core.metrics import record_pool
from aido.db.database import Database
from aido.db.startup import StartupError, prepare_database

log = logging.getLogger("aido.main")
EXIT_CONFIG_ERROR = 2
EXIT_STARTUP_FAILED = 3
POOL_SAMPLE_SECONDS = 1.0


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    log.info("starting; database %s", settings.redacted_database_url)
    db = Database(settings)
    await db.open()
    if app.state.schema_ready:
        # `python -m aido` waited for the database and migrated before it started workers.
        log.debug("schema prepared by the supervisor")
    else:
        try:
            await prepare_database(db, settings)
        except StartupError as exc:
            log.critical("start-up failed: %s", exc)
            await db.close()
            # Raising here would make the server print a traceback after our one clear line.
            logging.shutdown()
            os._exit(EXIT_STARTUP_FAILED)
    app.state.db = db
    sampler = asyncio.create_task(sample_pool(db)) if settings.METRICS_TOKEN else None
    app.state.accounts = await start_accounts(db, settings)
    log.debug("froze %d start-up objects", freeze_startup_objects())
    try:
        yield
    finally:
        if sampler is not None:
            sampler.cancel()
        app.state.accounts.close()
        await db.close()
        log.info("stopped; connections closed")


async def sample_pool(db: Database, every: float = POOL_SAMPLE_SECONDS) -> None:
    """The pool gauges of /metrics, kept fresh in every worker (a scrape reads them all)."""
    while True:
        record_pool(db.pool_stats())
        await asyncio.sleep(every)


def create_app(settings: Settings | None = None, *, schema_ready: bool = False) -> FastAPI:
    """The app on `settings` (by default read from the environment and `.env`: a wrong one
    exits with code 2 and one line, as `python -m aido` does). `schema_ready`: the database
    was waited for and migrated before this process started (by `python -m aido`), so
    start-up only opens the pool."""
    if settings is None:
        settings = _settings_or_exit()
    configure_logging(settings.LOG_LEVEL, settings.LOG_FORMAT)
    app = FastAPI(
        title="aido-todo",
        version="0.1.0",
        summary="A multi-user todo API on Postgres (local or Neon).",
        lifespan=lifespan,
        # `GET /tasks/` would be redirected to a Location built from the Host header: 404.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.schema_ready = schema_ready
    # Security headers, body limit and CORS: one wrapper (api/edge.py).
    app.add_middleware(
        HttpEdge,
        max_bytes=settings.MAX_BODY_BYTES,
        allow_origins=[settings.FRONTEND_URL],
        allow_credentials=True,
        allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        # A browser hides response headers from scripts unless listed here; the web UI reads
        # the first two (when to retry, and whether a create was a replay); the request id
        # lets a user's report be matched with the server's log.
        expose_headers=["Retry-After", "Idempotent-Replayed", "X-Request-ID"],
    )
    # The tasks first: FastAPI tries the routes of every router included before the one that
    # matches, at a cost per route on every request (bench/README.md, issue 15).
    routers = [tasks.router, health.router, auth.router, users.router]
    if settings.METRICS_TOKEN:
        routers.append(metrics.router)
    # Outermost: every answer gets the request id, an access-log line and its metrics.
    app.add_middleware(
        RequestObserver,
        routes=[route for router in routers for route in router.routes],
        access_log=settings.ACCESS_LOG,
        metrics=settings.METRICS_TOKEN is not None,
    )
    install_error_handlers(app)
    for router in routers:
        app.include_router(router)
    return app


def _settings_or_exit() -> Settings:
    try:
        return get_settings()
    except ConfigError as exc:
        print(fatal_line(str(exc), requested_log_format()), file=sys.stderr)
        raise SystemExit(EXIT_CONFIG_ERROR) from None


app: FastAPI  # declared for type checkers; assigned by __getattr__ below on first use


def __getattr__(name: str) -> FastAPI:
    """`aido.main:app` (`uvicorn aido.main:app`, as the test suite's server helper runs it):
    built on first use, so importing this module builds nothing and reads no settings."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    global app
    app = create_app()
    return app
