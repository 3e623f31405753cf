"""Start-up: wait for the database (bounded, logging each attempt), then migrate to head."""

from __future__ import annotations

import asyncio
import logging
import time

from aido.core.config import Settings
from aido.db.database import Database
from aido.db.migrate import upgrade_head
from aido.db.transient import describe, is_transient

log = logging.getLogger("aido.startup")


class StartupError(Exception):
    """Start-up cannot go on; the message is one log-safe line."""


async def wait_for_database(db: Database, settings: Settings) -> None:
    """A Neon compute may take seconds to wake, a compose db a few more to initialise."""
    started = time.monotonic()
    attempt = 0
    target = settings.redacted_database_url
    while True:
        attempt += 1
        try:
            await db.ping()
            if attempt > 1:
                log.info(
                    "database answered after %.1fs (%d attempts)",
                    time.monotonic() - started,
                    attempt,
                )
            return
        except Exception as exc:
            if not is_transient(exc):
                raise StartupError(
                    f"cannot use the database at {target}: {describe(exc)}"
                ) from None
            elapsed = time.monotonic() - started
            remaining = settings.DB_STARTUP_TIMEOUT - elapsed
            # The last wait is cut to what remains: the attempts cover the whole timeout.
            delay = min(5.0, 0.5 * 2 ** (attempt - 1), remaining)
            if remaining <= 0:
                raise StartupError(
                    f"database at {target} did not answer within "
                    f"{settings.DB_STARTUP_TIMEOUT:.0f}s "
                    f"({attempt} attempts, last error: {describe(exc)}); check DATABASE_URL and "
                    "that the database is running"
                ) from None
            log.warning(
                "waiting for the database at %s (attempt %d, %.1fs elapsed): %s; next try in %.1fs",
                target, attempt, elapsed, describe(exc), delay,
            )  # fmt: skip
            await asyncio.sleep(delay)


async def prepare_database(db: Database, settings: Settings) -> None:
    await wait_for_database(db, settings)
    try:
        await asyncio.to_thread(upgrade_head, settings)
    except Exception as exc:
        raise StartupError(f"migrations failed: {describe(exc)}") from None
