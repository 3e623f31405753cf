"""The JWT signing secret of a deployment without JWT_SECRET: generated once per database.

One statement, no session state (it may run through PgBouncer in transaction mode): the first
worker to start inserts a fresh random secret; every other one, at the same moment or later,
conflicts with it and gets the stored one back (ON CONFLICT DO UPDATE returns the row that
won, even one committed after the statement's snapshot). So every worker and replica signs with
the same secret, and a restart keeps it. The secret is never logged: errors are described
without the driver's message or parameters (db/transient.py), and only whether it was created
now is reported.
"""

from __future__ import annotations

import secrets

from aido.db.database import Database, Query

JWT = "jwt"
SECRET_BYTES = 48  # 384 random bits, urlsafe base64: 64 characters

LOAD_OR_CREATE = Query(
    "INSERT INTO signing_secret (name, secret) VALUES (%(name)s, %(secret)s) "
    "ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING secret",
    ("secret",),
)
SHAPES = {"load or create": LOAD_OR_CREATE}


async def load_or_create(db: Database, *, name: str = JWT) -> tuple[str, bool]:
    """The stored secret called `name`, and whether this call created it."""
    candidate = secrets.token_urlsafe(SECRET_BYTES)
    row = await db.fetch_one(LOAD_OR_CREATE, {"name": name, "secret": candidate})
    assert row is not None  # DO UPDATE always returns the row
    stored = str(row["secret"])
    return stored, stored == candidate
