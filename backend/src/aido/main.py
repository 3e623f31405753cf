"""The ASGI app: `uvicorn aido.main:app` serves it once the package is installed."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from aido.api.accounts import start_accounts
from aido.api.body_limit import BodySizeLimit
from aido.api.errors import install_error_handlers
from aido.api.routes import auth, health, tasks, users
from aido.api.security_headers import SecurityHeaders
from aido.core.config import ConfigError, Settings, get_settings
from aido.core.heap import freeze_startup_objects
from aido.core.logging import configure_logging, keep_queries_out_of_access_log
from aido.db.database import Database
from aido.db.startup import StartupError, prepare_database

log = logging.getLogger("aido.main")
EXIT_STARTUP_FAILED = 3


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    log.info("starting; database %s", settings.redacted_database_url)
    db = Database(settings)
    await db.open()
    try:
        await prepare_database(db, settings)
    except StartupError as exc:
        log.critical("start-up failed: %s", exc)
        await db.close()
        # Raising here would make the server print a traceback after our one clear line.
        logging.shutdown()
        os._exit(EXIT_STARTUP_FAILED)
    app.state.db = db
    app.state.accounts = await start_accounts(db, settings)
    log.debug("froze %d start-up objects", freeze_startup_objects())
    try:
        yield
    finally:
        app.state.accounts.close()
        await db.close()
        log.info("stopped; connections closed")


def create_app(settings: Settings) -> FastAPI:
    configure_logging(settings.LOG_LEVEL)
    keep_queries_out_of_access_log()
    app = FastAPI(
        title="aido-todo",
        version="0.1.0",
        summary="A multi-user todo API on Postgres (local or Neon).",
        lifespan=lifespan,
        # `GET /tasks/` would be redirected to a Location built from the Host header: 404.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[settings.FRONTEND_URL],
        allow_credentials=True,
        allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        # A browser hides response headers from scripts unless listed here; the web UI reads
        # these two (when to retry, and whether a create was a replay).
        expose_headers=["Retry-After", "Idempotent-Replayed"],
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.MAX_BODY_BYTES)
    # Added last, so outermost: the 413 above and CORS answers carry the headers too.
    app.add_middleware(SecurityHeaders)
    install_error_handlers(app)
    for router in (tasks.router, health.router, auth.router, users.router):
        app.include_router(router)
    return app


def _app_from_environment() -> FastAPI:
    try:
        return create_app(get_settings())
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None


app = _app_from_environment()
