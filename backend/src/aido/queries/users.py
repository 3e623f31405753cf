"""User statements: each is one round trip and safe to repeat after a dropped connection.

Emails arrive normalised (models.user.normalize_email) and are stored that way, so they are
compared by equality, on the unique index. Every statement the app sends about users is in
`SHAPES` below (tests/queries/test_shapes.py runs each one).
"""

from __future__ import annotations

import uuid

from aido.core.errors import AccountGone, EmailTaken, PasswordChangedMeanwhile
from aido.core.metrics import count_unknown_outcome
from aido.core.revocation import RevocationBatch
from aido.db.database import Connection, Database, Query, Row

PUBLIC = ("id", "email", "created_at")
_PUBLIC = ", ".join(PUBLIC)

CREATE = Query(
    'INSERT INTO "user" (id, email, hashed_password) '
    "VALUES (%(user_id)s, %(email)s, %(hashed_password)s) "
    f"ON CONFLICT DO NOTHING RETURNING {_PUBLIC}",
    PUBLIC,
)
BY_EMAIL = Query(f'SELECT {_PUBLIC} FROM "user" WHERE email = %(email)s', PUBLIC)
BY_ID = Query(f'SELECT {_PUBLIC} FROM "user" WHERE id = %(user_id)s', PUBLIC)
EXISTS = Query('SELECT id FROM "user" WHERE id = %(user_id)s', ("id",))
CREDENTIALS = Query(
    'SELECT id, hashed_password, token_generation FROM "user" WHERE email = %(email)s',
    ("id", "hashed_password", "token_generation"),
)
PASSWORD = Query(
    'SELECT hashed_password, token_generation FROM "user" WHERE id = %(user_id)s',
    ("hashed_password", "token_generation"),
)
DELETE = Query('DELETE FROM "user" WHERE id = %(user_id)s RETURNING id', ("id",))
# pg_current_xact_id() is xid8 (PostgreSQL 13+): the 64-bit transaction id, as bigint.
_REVOKED = (
    "token_generation = token_generation + 1, tokens_revoked_at = now(), "
    "tokens_revoked_xid = pg_current_xact_id()::text::bigint"
)
REVOKE = Query(
    f'UPDATE "user" SET {_REVOKED} WHERE id = %(user_id)s RETURNING token_generation',
    ("token_generation",),
)
CHANGE_PASSWORD = Query(
    f'UPDATE "user" SET hashed_password = %(new)s, {_REVOKED} '
    "WHERE id = %(user_id)s AND hashed_password = %(old)s RETURNING token_generation",
    ("token_generation",),
)
# One row even when nobody revoked anything: the watermark comes with every read. Its snapshot
# is the statement's own, so every transaction below xmin is visible to the same read.
_WATERMARK = (
    "SELECT w.xmin, u.id, u.token_generation "
    "FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) AS w "
    'LEFT OUTER JOIN "user" AS u ON '
)
REVOCATIONS_SINCE = Query(
    _WATERMARK + "u.tokens_revoked_xid >= %(since)s", ("xmin", "id", "token_generation")
)
REVOCATIONS_WITHIN = Query(
    _WATERMARK + "u.tokens_revoked_at > now() - interval '1 second' * %(seconds)s",
    ("xmin", "id", "token_generation"),
)

SHAPES: dict[str, Query] = {
    "create": CREATE, "by email": BY_EMAIL, "by id": BY_ID, "exists": EXISTS,
    "credentials": CREDENTIALS, "password": PASSWORD, "delete": DELETE, "revoke": REVOKE,
    "change password": CHANGE_PASSWORD, "revocations since": REVOCATIONS_SINCE,
    "revocations within": REVOCATIONS_WITHIN,
}  # fmt: skip


async def create_user(db: Database, *, email: str, hashed_password: str) -> Row:
    user_id = uuid.uuid4()
    params = {"user_id": user_id, "email": email, "hashed_password": hashed_password}

    async def op(conn: Connection, attempt: int) -> Row:
        row = await conn.fetch_one(CREATE, params)
        if row is not None:
            if attempt:
                count_unknown_outcome("user_create", already_done=False)
            return row
        # The email is taken: by someone else (409), or by our own earlier attempt whose
        # answer was lost with its connection (then the account is ours: 201).
        existing = await conn.fetch_one(BY_EMAIL, params)
        if existing is not None and existing["id"] == str(user_id):
            count_unknown_outcome("user_create", already_done=True)
            return existing
        raise EmailTaken

    return await db.run(op)


async def get_credentials(db: Database, *, email: str) -> Row | None:
    """id, hashed_password and token_generation of the account with this email."""
    return await db.fetch_one(CREDENTIALS, {"email": email})


async def get_password_hash(db: Database, *, user_id: uuid.UUID) -> Row:
    row = await db.fetch_one(PASSWORD, {"user_id": user_id})
    if row is None:
        raise AccountGone
    return row


async def get_user(db: Database, *, user_id: uuid.UUID) -> Row:
    row = await db.fetch_one(BY_ID, {"user_id": user_id})
    if row is None:
        raise AccountGone
    return row


async def delete_user(db: Database, *, user_id: uuid.UUID) -> None:
    """Deletes the account; ON DELETE CASCADE removes its tasks in the same statement."""

    async def op(conn: Connection, attempt: int) -> bool:
        deleted = await conn.fetch_one(DELETE, {"user_id": user_id}) is not None
        if attempt:
            count_unknown_outcome("user_delete", already_done=not deleted)
        # A repeat after a lost answer finds nothing: the first attempt did the deletion.
        return deleted or attempt > 0

    if not await db.run(op):
        raise AccountGone


async def ensure_exists(db: Database, *, user_id: uuid.UUID) -> None:
    """The slow path after a miss: a deleted user's token gets 401, not 404."""
    if await db.fetch_one(EXISTS, {"user_id": user_id}) is None:
        raise AccountGone


async def revoke_tokens(db: Database, *, user_id: uuid.UUID) -> int:
    """Revokes every token of the user issued so far; the new generation."""
    row = await db.fetch_one(REVOKE, {"user_id": user_id})
    if row is None:
        raise AccountGone
    return int(row["token_generation"])


async def change_password(db: Database, *, user_id: uuid.UUID, old_hash: str, new_hash: str) -> int:
    """Sets the new hash if the password is still the one the caller checked, revoking every
    token issued so far; the new generation."""
    params = {"user_id": user_id, "old": old_hash, "new": new_hash}

    async def op(conn: Connection, attempt: int) -> int:
        row = await conn.fetch_one(CHANGE_PASSWORD, params)
        if row is not None:
            return int(row["token_generation"])
        current = await conn.fetch_one(PASSWORD, params)
        if current is None:
            raise AccountGone
        if attempt > 0 and current["hashed_password"] == new_hash:
            return int(current["token_generation"])  # our own update, its answer lost
        raise PasswordChangedMeanwhile

    return await db.run(op)


async def revocations_since(
    db: Database, since: int | None, *, lifetime_seconds: int
) -> RevocationBatch:
    """Revocations by transactions from `since` on, or (since=None) within the lifetime."""
    if since is None:
        rows = await db.fetch_all(REVOCATIONS_WITHIN, {"seconds": lifetime_seconds})
    else:
        rows = await db.fetch_all(REVOCATIONS_SINCE, {"since": since})
    floors = [(uuid.UUID(r["id"]), int(r["token_generation"])) for r in rows if r["id"]]
    return RevocationBatch(watermark=int(rows[0]["xmin"]), floors=floors)
