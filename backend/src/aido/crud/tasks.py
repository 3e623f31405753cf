"""Task statements. Each request runs one statement in the common case; a miss runs a second
one to tell a missing task (404) from a deleted user (401)."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any

import psycopg.errors
from fastapi import HTTPException, status
from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Text,
    Uuid,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.types import TypeEngine

from aido.api.deps import UNAUTHORIZED
from aido.crud import cursor as cursors
from aido.crud.users import ensure_exists
from aido.db.session import Database, Prepared, RawConnection, Row
from aido.models.task import SortOrder, Task, TaskSort

task_t = Task.__table__  # type: ignore[attr-defined]
# The id comes back as Postgres's own text: a page of 50 would otherwise build 50 uuid.UUID
# objects only for orjson to turn them back into the same text (bench/README.md).
PUBLIC = (
    task_t.c.id.cast(Text).label("id"),
    task_t.c.title,
    task_t.c.description,
    task_t.c.completed,
    task_t.c.created_at,
    task_t.c.updated_at,
)
NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, "Task not found")


def _like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@functools.cache
def _list_statement(
    sort: TaskSort, order: SortOrder, completed: bool | None, search: bool, after: str | None
) -> Prepared:
    """One compiled statement per shape of the list query (at most 3 x 2 x 3 x 2 x 4)."""
    key = task_t.c[sort.value]
    descending = order is SortOrder.DESC
    stmt = select(*PUBLIC).where(task_t.c.owner_id == bindparam("owner_id"))
    if completed is not None:
        stmt = stmt.where(task_t.c.completed == completed)
    if search:
        pattern = bindparam("pattern", type_=String())
        stmt = stmt.where(
            or_(task_t.c.title.ilike(pattern, escape="\\"),
                task_t.c.description.ilike(pattern, escape="\\"))
        )  # fmt: skip
    if after is not None:
        position = tuple_(key, task_t.c.id)
        bound = tuple_(
            bindparam("after_key", type_=_AFTER_TYPES[after]),
            bindparam("after_id", type_=Uuid()),
        )
        stmt = stmt.where(position < bound if descending else position > bound)
    ordering = (key.desc(), task_t.c.id.desc()) if descending else (key.asc(), task_t.c.id.asc())
    return Prepared(stmt.order_by(*ordering).limit(bindparam("limit", type_=Integer())))


_AFTER_TYPES: dict[str, TypeEngine[Any]] = {
    "aware": DateTime(timezone=True),
    "naive": DateTime(timezone=False),
    "text": String(),
}


def _after_kind(value: Any) -> str:
    if isinstance(value, datetime):
        return "aware" if value.tzinfo is not None else "naive"
    return "text"


async def list_tasks(
    db: Database,
    *,
    owner_id: uuid.UUID,
    limit: int,
    sort: TaskSort,
    order: SortOrder,
    completed: bool | None = None,
    q: str | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    # One row past the page tells whether there is a next page, without a COUNT.
    params: dict[str, Any] = {"owner_id": owner_id, "limit": limit + 1}
    after = None
    if q:
        params["pattern"] = _like_pattern(q)
    if cursor:
        params["after_key"], params["after_id"] = cursors.decode(cursor, sort, order)
        after = _after_kind(params["after_key"])
    stmt = _list_statement(sort, order, completed, bool(q), after)
    rows = await db.fetch_all(stmt, params)
    if not rows:
        await ensure_exists(db, user_id=owner_id)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursors.encode(sort, order, rows[-1])
    return {"items": rows, "next_cursor": next_cursor}


# The insert of create_task and its look-up after a conflict, compiled once.
_INSERT = Prepared(
    pg_insert(task_t)
    .values(
        id=bindparam("new_id"),
        owner_id=bindparam("new_owner_id"),
        title=bindparam("new_title"),
        description=bindparam("new_description"),
        completed=bindparam("new_completed"),
        idempotency_key=bindparam("new_idempotency_key"),
    )
    .on_conflict_do_nothing()
    .returning(*PUBLIC)
)
_EARLIER = select(*PUBLIC).where(task_t.c.owner_id == bindparam("owner_id"))
_EARLIER_BY_ID = Prepared(_EARLIER.where(task_t.c.id == bindparam("task_id")))
_EARLIER_BY_KEY = Prepared(
    _EARLIER.where(
        or_(task_t.c.id == bindparam("task_id"), task_t.c.idempotency_key == bindparam("key"))
    )
)


async def create_task(
    db: Database,
    *,
    owner_id: uuid.UUID,
    title: str,
    description: str | None,
    completed: bool,
    idempotency_key: str | None = None,
) -> tuple[Row, bool]:
    """The task and whether it was created now (False: replayed for its Idempotency-Key).

    The id is chosen here, before the insert, so a repeat after a lost answer finds the row
    the first attempt stored instead of inserting a second one.
    """
    task_id = uuid.uuid4()
    values = {
        "new_id": task_id,
        "new_owner_id": owner_id,
        "new_title": title,
        "new_description": description,
        "new_completed": completed,
        "new_idempotency_key": idempotency_key,
    }
    earlier = _EARLIER_BY_KEY if idempotency_key is not None else _EARLIER_BY_ID
    earlier_params = {"owner_id": owner_id, "task_id": task_id, "key": idempotency_key}

    async def op(conn: RawConnection, attempt: int) -> tuple[Row, bool]:
        try:
            rows = await _INSERT.execute(conn, values)
        except psycopg.errors.ForeignKeyViolation:
            raise UNAUTHORIZED from None  # owner_id's user is gone (foreign key)
        if rows:
            return rows[0], True
        found = await earlier.execute(conn, earlier_params)
        if not found:
            raise RuntimeError("insert conflicted but no conflicting task was found")
        # Our own earlier attempt counts as created now; a matching key is a replay.
        return found[0], found[0]["id"] == str(task_id)

    return await db.run_raw(op)


_GET = Prepared(
    select(*PUBLIC).where(
        task_t.c.id == bindparam("task_id"), task_t.c.owner_id == bindparam("owner_id")
    )
)
_DELETE = Prepared(
    delete(task_t)
    .where(task_t.c.id == bindparam("task_id"), task_t.c.owner_id == bindparam("owner_id"))
    .returning(task_t.c.id)
)


async def get_task(db: Database, *, owner_id: uuid.UUID, task_id: uuid.UUID) -> Row:
    row = await db.fetch_one(_GET, {"task_id": task_id, "owner_id": owner_id})
    if row is None:
        await ensure_exists(db, user_id=owner_id)
        raise NOT_FOUND
    return row


_BIND = "bind"


def _inline(value: Any) -> Any:
    """SQLAlchemy writes None, True and False inline in IS DISTINCT FROM (NULL, true, false);
    they are part of a statement's shape, so its SQL is the text it always was."""
    return value if value is None or isinstance(value, bool) else _BIND


@functools.cache
def _update_statement(shape: tuple[tuple[str, Any], ...]) -> Prepared:
    """The UPDATE for one set of changed fields (in the order given), compiled once."""
    differs = or_(*(
        task_t.c[name].is_distinct_from(bindparam(f"cmp_{name}") if inline is _BIND else inline)
        for name, inline in shape
    ))  # fmt: skip
    values: dict[str, Any] = {name: bindparam(f"set_{name}") for name, _ in shape}
    return Prepared(
        update(task_t)
        .where(
            and_(task_t.c.id == bindparam("task_id"), task_t.c.owner_id == bindparam("owner_id"))
        )
        .values(**values, updated_at=case((differs, func.now()), else_=task_t.c.updated_at))
        .returning(*PUBLIC)
    )


async def update_task(
    db: Database, *, owner_id: uuid.UUID, task_id: uuid.UUID, changes: dict[str, Any]
) -> Row:
    """Applies `changes`; updated_at moves only when a value really changes, so a repeated
    request (a client retry, or ours after a lost answer) leaves the task as the first did."""
    if not changes:
        return await get_task(db, owner_id=owner_id, task_id=task_id)
    shape = tuple((name, _inline(value)) for name, value in changes.items())
    params: dict[str, Any] = {"task_id": task_id, "owner_id": owner_id}
    for name, value in changes.items():
        params[f"set_{name}"] = value
        if _inline(value) is _BIND:
            params[f"cmp_{name}"] = value
    stmt = _update_statement(shape)
    row = await db.fetch_one(stmt, params)
    if row is None:
        await ensure_exists(db, user_id=owner_id)
        raise NOT_FOUND
    return row


async def delete_task(db: Database, *, owner_id: uuid.UUID, task_id: uuid.UUID) -> None:
    params = {"task_id": task_id, "owner_id": owner_id}

    async def op(conn: RawConnection, attempt: int) -> bool:
        deleted = bool(await _DELETE.execute(conn, params))
        # After a lost answer the repeat finds nothing because the first attempt deleted it.
        return deleted or attempt > 0

    if not await db.run_raw(op):
        await ensure_exists(db, user_id=owner_id)
        raise NOT_FOUND
