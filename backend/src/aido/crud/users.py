"""User statements: each is one round trip and safe to repeat after a dropped connection.

Emails arrive normalised (models.user.normalize_email) and are stored that way, so they are
compared by equality, on the unique index.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Text,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from aido.core.errors import AccountGone, EmailTaken, PasswordChangedMeanwhile
from aido.core.revocation import RevocationBatch
from aido.db.session import Database, Prepared, RawConnection, Row
from aido.models.user import User

user_t = User.__table__  # type: ignore[attr-defined]
PUBLIC = (user_t.c.id, user_t.c.email, user_t.c.created_at)


async def create_user(db: Database, *, email: str, hashed_password: str) -> Row:
    user_id = uuid.uuid4()
    stmt = (
        pg_insert(user_t)
        .values(id=user_id, email=email, hashed_password=hashed_password)
        .on_conflict_do_nothing()
        .returning(*PUBLIC)
    )

    async def op(conn: AsyncConnection, attempt: int) -> Row:
        row = (await conn.execute(stmt)).mappings().first()
        if row is not None:
            return dict(row)
        # The email is taken: by someone else (409), or by our own earlier attempt whose
        # answer was lost with its connection (then the account is ours: 201).
        existing = (
            (await conn.execute(select(*PUBLIC).where(user_t.c.email == email))).mappings().first()
        )
        if existing is not None and existing["id"] == user_id:
            return dict(existing)
        raise EmailTaken

    return await db.run(op)


_CREDENTIALS = Prepared(
    select(user_t.c.id, user_t.c.hashed_password, user_t.c.token_generation).where(
        user_t.c.email == bindparam("email")
    )
)


async def get_credentials(db: Database, *, email: str) -> Row | None:
    """id, hashed_password and token_generation of the account with this email."""
    return await db.fetch_one(_CREDENTIALS, {"email": email})


_PASSWORD = Prepared(
    select(user_t.c.hashed_password, user_t.c.token_generation).where(
        user_t.c.id == bindparam("user_id")
    )
)


async def get_password_hash(db: Database, *, user_id: uuid.UUID) -> Row:
    row = await db.fetch_one(_PASSWORD, {"user_id": user_id})
    if row is None:
        raise AccountGone
    return row


async def get_user(db: Database, *, user_id: uuid.UUID) -> Row:
    row = await db.fetch_one(select(*PUBLIC).where(user_t.c.id == user_id))
    if row is None:
        raise AccountGone
    return row


async def delete_user(db: Database, *, user_id: uuid.UUID) -> None:
    """Deletes the account; ON DELETE CASCADE removes its tasks in the same statement."""
    stmt = delete(user_t).where(user_t.c.id == user_id).returning(user_t.c.id)

    async def op(conn: AsyncConnection, attempt: int) -> bool:
        deleted = (await conn.execute(stmt)).first() is not None
        # A repeat after a lost answer finds nothing: the first attempt did the deletion.
        return deleted or attempt > 0

    if not await db.run(op):
        raise AccountGone


async def ensure_exists(db: Database, *, user_id: uuid.UUID) -> None:
    """The slow path after a miss: a deleted user's token gets 401, not 404."""
    if await db.fetch_one(select(user_t.c.id).where(user_t.c.id == user_id)) is None:
        raise AccountGone


# pg_current_xact_id() is xid8 (PostgreSQL 13+): the 64-bit transaction id, as bigint.
_XACT_ID = func.pg_current_xact_id().cast(Text).cast(BigInteger)
_REVOKED: dict[str, Any] = {
    "token_generation": user_t.c.token_generation + literal_column("1"),
    "tokens_revoked_at": func.now(),
    "tokens_revoked_xid": _XACT_ID,
}
_REVOKE = Prepared(
    update(user_t)
    .where(user_t.c.id == bindparam("user_id"))
    .values(**_REVOKED)
    .returning(user_t.c.token_generation)
)


async def revoke_tokens(db: Database, *, user_id: uuid.UUID) -> int:
    """Revokes every token of the user issued so far; the new generation."""
    row = await db.fetch_one(_REVOKE, {"user_id": user_id})
    if row is None:
        raise AccountGone
    return int(row["token_generation"])


_CHANGE_PASSWORD = Prepared(
    update(user_t)
    .where(user_t.c.id == bindparam("user_id"), user_t.c.hashed_password == bindparam("old"))
    .values(hashed_password=bindparam("new"), **_REVOKED)
    .returning(user_t.c.token_generation)
)


async def change_password(db: Database, *, user_id: uuid.UUID, old_hash: str, new_hash: str) -> int:
    """Sets the new hash if the password is still the one the caller checked, revoking every
    token issued so far; the new generation."""
    params = {"user_id": user_id, "old": old_hash, "new": new_hash}

    async def op(conn: RawConnection, attempt: int) -> int:
        rows = await _CHANGE_PASSWORD.execute(conn, params)
        if rows:
            return int(rows[0]["token_generation"])
        current = await _PASSWORD.execute(conn, {"user_id": user_id})
        if not current:
            raise AccountGone
        if attempt > 0 and current[0]["hashed_password"] == new_hash:
            return int(current[0]["token_generation"])  # our own update, its answer lost
        raise PasswordChangedMeanwhile

    return await db.run_raw(op)


# One row even when nobody revoked anything: the watermark comes with every read. Its snapshot
# is the statement's own, so every transaction below xmin is visible to the same read.
_WATERMARK = select(
    func.pg_snapshot_xmin(func.pg_current_snapshot()).cast(Text).cast(BigInteger).label("xmin")
).subquery()
_READ = select(_WATERMARK.c.xmin, user_t.c.id, user_t.c.token_generation).select_from(_WATERMARK)
_REVOCATIONS_SINCE = Prepared(
    _READ.outerjoin(user_t, user_t.c.tokens_revoked_xid >= bindparam("since", type_=BigInteger()))
)
_REVOCATIONS_WITHIN = Prepared(
    _READ.outerjoin(
        user_t,
        user_t.c.tokens_revoked_at
        > func.now()
        - literal_column("interval '1 second'") * bindparam("seconds", type_=Integer()),
    )
)


async def revocations_since(
    db: Database, since: int | None, *, lifetime_seconds: int
) -> RevocationBatch:
    """Revocations by transactions from `since` on, or (since=None) within the lifetime."""
    if since is None:
        rows = await db.fetch_all(_REVOCATIONS_WITHIN, {"seconds": lifetime_seconds})
    else:
        rows = await db.fetch_all(_REVOCATIONS_SINCE, {"since": since})
    floors = [(r["id"], int(r["token_generation"])) for r in rows if r["id"] is not None]
    return RevocationBatch(watermark=int(rows[0]["xmin"]), floors=floors)
