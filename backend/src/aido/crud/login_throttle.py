"""Failed log-in counting per email and per client, in fixed windows."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from aido.db.session import Database
from aido.models.login_throttle import LoginThrottle

throttle_t = LoginThrottle.__table__  # type: ignore[attr-defined]


def keys_for(*, email: str, client: str | None) -> dict[str, str]:
    keys = {"email": f"email:{email}"}
    if client:
        keys["client"] = f"client:{client}"
    return keys


async def seconds_until_allowed(
    db: Database, *, keys: dict[str, str], limits: dict[str, int], window: int
) -> int:
    """0 when every key is under its limit, else the seconds until its window ends."""
    rows = await db.fetch_all(
        select(throttle_t.c.key, throttle_t.c.failures, throttle_t.c.window_started_at).where(
            throttle_t.c.key.in_(list(keys.values()))
        )
    )
    now = datetime.now(UTC)
    wait = 0.0
    for row in rows:
        kind = next(k for k, v in keys.items() if v == row["key"])
        ends = row["window_started_at"] + timedelta(seconds=window)
        if row["failures"] >= limits[kind] and ends > now:
            wait = max(wait, (ends - now).total_seconds())
    return math.ceil(wait)


async def record_failure(db: Database, *, keys: dict[str, str], window: int) -> None:
    expired = throttle_t.c.window_started_at < func.now() - func.make_interval(
        0, 0, 0, 0, 0, 0, window
    )
    stmt = pg_insert(throttle_t).values([{"key": key, "failures": 1} for key in keys.values()])
    stmt = stmt.on_conflict_do_update(
        index_elements=[throttle_t.c.key],
        set_={
            "failures": case((expired, 1), else_=throttle_t.c.failures + 1),
            "window_started_at": case((expired, func.now()), else_=throttle_t.c.window_started_at),
        },
    )
    await db.fetch_all(stmt.returning(throttle_t.c.key))


async def clear(db: Database, *, key: str) -> None:
    await db.fetch_all(
        delete(throttle_t).where(throttle_t.c.key == key).returning(throttle_t.c.key)
    )
