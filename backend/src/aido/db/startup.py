"""Start-up: wait for the database (bounded, logging each attempt), then migrate to head."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from pathlib import Path
from urllib.parse import urlsplit

from aido.core.config import Settings
from aido.db.database import Database
from aido.db.migrate import upgrade_head
from aido.db.transient import describe, is_transient

log = logging.getLogger("aido.startup")


# Docker writes the first into every container, podman the second.
CONTAINER_MARKERS = (Path("/.dockerenv"), Path("/run/.containerenv"))
LOCALHOST_IN_CONTAINER = (
    "connection refused — this process runs in a container, where `localhost` is the container "
    "itself: if the database runs in another one, use its service name (db / db-pooler)"
)


class StartupError(Exception):
    """Start-up cannot go on; the message is one log-safe line."""


def running_in_container() -> bool:
    return any(marker.exists() for marker in CONTAINER_MARKERS)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refused(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):  # the error, the driver's error under it, and their causes
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or "connection refused" in str(seen).lower():
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def failure_reason(exc: BaseException, url: str, *, in_container: bool) -> str:
    """describe(exc), and the likely cause when a container's `localhost` URL is refused:
    `DATABASE_URL=…@localhost…` in `.env` works from the host but not under compose."""
    reason = describe(exc)
    if in_container and _is_loopback(url) and _refused(exc):
        reason += f": {LOCALHOST_IN_CONTAINER}"
    return reason


async def wait_for_database(
    db: Database, settings: Settings, *, in_container: bool | None = None
) -> None:
    """A Neon compute may take seconds to wake, a compose db a few more to initialise.
    `in_container`: whether this process runs in a container (None: detected)."""
    if in_container is None:
        in_container = running_in_container()
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
            reason = failure_reason(exc, settings.DATABASE_URL, in_container=in_container)
            elapsed = time.monotonic() - started
            remaining = settings.DB_STARTUP_TIMEOUT - elapsed
            # The last wait is cut to what remains: the attempts cover the whole timeout.
            delay = min(5.0, 0.5 * 2 ** (attempt - 1), remaining)
            if remaining <= 0:
                raise StartupError(
                    f"database at {target} did not answer within "
                    f"{settings.DB_STARTUP_TIMEOUT:.0f}s "
                    f"({attempt} attempts, last error: {reason}); check DATABASE_URL and "
                    "that the database is running"
                ) from None
            log.warning(
                "waiting for the database at %s (attempt %d, %.1fs elapsed): %s; next try in %.1fs",
                target, attempt, elapsed, reason, delay,
            )  # fmt: skip
            await asyncio.sleep(delay)


async def prepare_database(db: Database, settings: Settings) -> None:
    await wait_for_database(db, settings)
    try:
        await asyncio.to_thread(upgrade_head, settings)
    except Exception as exc:
        raise StartupError(f"migrations failed: {describe(exc)}") from None
