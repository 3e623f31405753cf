"""The JWT signing secret of a deployment without JWT_SECRET: generated once per database.

One statement, no session state (it may run through PgBouncer in transaction mode): the first
worker to start inserts a fresh random secret; every other one, at the same moment or later,
conflicts with it and gets the stored one back (ON CONFLICT DO UPDATE returns the row that
won, even one committed after the statement's snapshot). So every worker and replica signs with
the same secret, and a restart keeps it. The secret is never logged: SQL parameters are hidden
(db/engine.py) and only whether it was created now is reported.
"""

from __future__ import annotations

import secrets

from sqlalchemy.dialects.postgresql import insert as pg_insert

from aido.db.session import Database
from aido.models.signing_secret import SigningSecret

secret_t = SigningSecret.__table__  # type: ignore[attr-defined]
JWT = "jwt"
SECRET_BYTES = 48  # 384 random bits, urlsafe base64: 64 characters


async def load_or_create(db: Database, *, name: str = JWT) -> tuple[str, bool]:
    """The stored secret called `name`, and whether this call created it."""
    candidate = secrets.token_urlsafe(SECRET_BYTES)
    insert = pg_insert(secret_t).values(name=name, secret=candidate)
    stmt = insert.on_conflict_do_update(
        index_elements=[secret_t.c.name], set_={"name": insert.excluded.name}
    ).returning(secret_t.c.secret)
    row = await db.fetch_one(stmt)
    assert row is not None  # DO UPDATE always returns the row
    stored = str(row["secret"])
    return stored, stored == candidate
