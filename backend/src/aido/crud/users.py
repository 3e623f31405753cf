"""User statements: each is one round trip and safe to repeat after a dropped connection."""

from __future__ import annotations

import uuid

from fastapi import HTTPException, status
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from aido.api.deps import UNAUTHORIZED
from aido.core.metrics import count_unknown_outcome
from aido.db.session import Database, Row
from aido.models.user import User

user_t = User.__table__  # type: ignore[attr-defined]
PUBLIC = (user_t.c.id, user_t.c.email, user_t.c.created_at)

EMAIL_TAKEN = HTTPException(status.HTTP_409_CONFLICT, "An account with this email already exists")


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
            if attempt:
                count_unknown_outcome("user_create", already_done=False)
            return dict(row)
        # The email is taken: by someone else (409), or by our own earlier attempt whose
        # answer was lost with its connection (then the account is ours: 201).
        existing = (
            (await conn.execute(select(*PUBLIC).where(func.lower(user_t.c.email) == email)))
            .mappings()
            .first()
        )
        if existing is not None and existing["id"] == user_id:
            count_unknown_outcome("user_create", already_done=True)
            return dict(existing)
        raise EMAIL_TAKEN

    return await db.run(op)


async def get_credentials(db: Database, *, email: str) -> Row | None:
    # lower(email) matches the unique index, so this is an index lookup.
    stmt = select(user_t.c.id, user_t.c.hashed_password).where(func.lower(user_t.c.email) == email)
    return await db.fetch_one(stmt)


async def get_user(db: Database, *, user_id: uuid.UUID) -> Row:
    row = await db.fetch_one(select(*PUBLIC).where(user_t.c.id == user_id))
    if row is None:
        raise UNAUTHORIZED  # the token's user was deleted
    return row


async def delete_user(db: Database, *, user_id: uuid.UUID) -> None:
    """Deletes the account; ON DELETE CASCADE removes its tasks in the same statement."""
    stmt = delete(user_t).where(user_t.c.id == user_id).returning(user_t.c.id)

    async def op(conn: AsyncConnection, attempt: int) -> bool:
        deleted = (await conn.execute(stmt)).first() is not None
        if attempt:
            count_unknown_outcome("user_delete", already_done=not deleted)
        # A repeat after a lost answer finds nothing: the first attempt did the deletion.
        return deleted or attempt > 0

    if not await db.run(op):
        raise UNAUTHORIZED


async def ensure_exists(db: Database, *, user_id: uuid.UUID) -> None:
    """The slow path after a miss: a deleted user's token gets 401, not 404."""
    if await db.fetch_one(select(user_t.c.id).where(user_t.c.id == user_id)) is None:
        raise UNAUTHORIZED
