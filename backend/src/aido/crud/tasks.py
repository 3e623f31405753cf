"""Task statements. Each request runs one statement in the common case; a miss runs a second
one to tell a missing task (404) from a deleted user (401), or which limit refused a create."""

from __future__ import annotations

import functools
import hashlib
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import psycopg
import psycopg.errors
from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    Interval,
    LargeBinary,
    String,
    Text,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.types import TypeEngine

from aido.core.config import Settings
from aido.core.errors import (
    AccountGone,
    IdempotencyKeyReused,
    SearchTimedOut,
    TaskCreateRateLimited,
    TaskLimitReached,
    TaskNotFound,
    TooManySearches,
)
from aido.crud import cursor as cursors
from aido.crud.keyed_limiter import KeyedLimiter, SlotWaitTimedOut
from aido.crud.users import ensure_exists
from aido.db.session import Database, Prepared, RawConnection, Row
from aido.models.task import SortOrder, Task, TaskQuota, TaskSort

task_t = Task.__table__  # type: ignore[attr-defined]
quota_t = TaskQuota.__table__  # type: ignore[attr-defined]
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


@dataclass(frozen=True)
class TaskRules:
    """The limits of one process, from Settings: quotas of creates, bounds of searches."""

    max_tasks: int
    creates_per_window: int
    window_seconds: int
    search_timeout_seconds: float
    searches: KeyedLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> TaskRules:
        return cls(
            max_tasks=settings.TASKS_MAX_PER_USER,
            creates_per_window=settings.TASK_CREATES_PER_WINDOW,
            window_seconds=settings.TASK_CREATE_WINDOW_SECONDS,
            search_timeout_seconds=settings.SEARCH_TIMEOUT_SECONDS,
            searches=KeyedLimiter(settings.SEARCH_CONCURRENCY_PER_USER,
                                  settings.SEARCH_QUEUE_SECONDS),
        )  # fmt: skip


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
    rules: TaskRules | None = None,
) -> dict[str, Any]:
    """A page of the owner's tasks. With `q` (and `rules`), the search waits for one of the
    owner's search slots and runs under a server-side statement timeout."""
    # One row past the page tells whether there is a next page, without a COUNT.
    params: dict[str, Any] = {"owner_id": owner_id, "limit": limit + 1}
    after = None
    if q:
        params["pattern"] = _like_pattern(q)
    if cursor:
        params["after_key"], params["after_id"] = cursors.decode(cursor, sort, order)
        after = _after_kind(params["after_key"])
    stmt = _list_statement(sort, order, completed, bool(q), after)
    if q and rules is not None:
        rows = await _search(db, stmt, params, owner_id=owner_id, rules=rules)
    else:
        rows = await db.fetch_all(stmt, params)
    if not rows:
        await ensure_exists(db, user_id=owner_id)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursors.encode(sort, order, rows[-1])
    return {"items": rows, "next_cursor": next_cursor}


# set_config(…, true) lasts until the end of the transaction. Sent in the same simple-protocol
# Query message as the search, both run in one implicit transaction: the timeout holds for the
# search alone, through a transaction-mode pooler too (PgBouncer keeps the message on one
# server connection), and costs no extra round trip. Values are bound client-side by psycopg.
_WITH_TIMEOUT = "SELECT set_config('statement_timeout', %(statement_timeout_ms)s, true); "


async def _search(
    db: Database,
    stmt: Prepared,
    params: dict[str, Any],
    *,
    owner_id: uuid.UUID,
    rules: TaskRules,
) -> list[Row]:
    bound = {**params, "statement_timeout_ms": str(math.ceil(rules.search_timeout_seconds * 1000))}
    sql = _WITH_TIMEOUT + stmt.sql
    keys = stmt.keys

    async def op(conn: RawConnection, attempt: int) -> list[Row]:
        async with psycopg.AsyncClientCursor(conn) as cur:
            try:
                await cur.execute(sql, bound)
            except psycopg.errors.QueryCanceled:
                # Raised here, inside the attempt: the retry layer answers any psycopg
                # OperationalError that escapes it (QueryCanceled is one) as "unavailable".
                raise SearchTimedOut(rules.search_timeout_seconds) from None
            cur.nextset()
            return [dict(zip(keys, row, strict=True)) for row in await cur.fetchall()]

    try:
        async with rules.searches.hold(owner_id):
            return await db.run_raw(op)
    except SlotWaitTimedOut:
        raise TooManySearches(retry_after=max(1, math.ceil(rules.search_timeout_seconds))) from None


ZERO: ColumnClause[Any] = literal_column("0")
ONE: ColumnClause[Any] = literal_column("1")


def _window_over() -> Any:
    # The window has ended when it started at least `window` (an interval) ago.
    return quota_t.c.window_started_at <= func.now() - bindparam("window", type_=Interval())


def _admission() -> Any:
    """The owner's quota row, counted and locked, or no row when a limit refuses.

    A plain UPDATE: it locks the row, and under READ COMMITTED a create that waited for
    another re-evaluates the WHERE on the row that one left, so concurrent creates of one
    owner queue here and neither limit can be overrun by a race. (An upsert, which would also
    make the row of an owner's first create, cost ~100 µs of database CPU more per create:
    bench/README.md.) `tasks` itself is kept by the triggers of migration 0003; this
    statement only counts the create in its window.
    """
    over = _window_over()
    return (
        update(quota_t)
        .where(
            quota_t.c.owner_id == bindparam("new_owner_id"),
            quota_t.c.tasks < bindparam("max_tasks", type_=Integer()),
            or_(over, quota_t.c.window_creates < bindparam("max_creates", type_=Integer())),
        )
        .values(
            window_started_at=case((over, func.now()), else_=quota_t.c.window_started_at),
            window_creates=case((over, ONE), else_=quota_t.c.window_creates + ONE),
        )
        .returning(quota_t.c.owner_id)
        .cte("admitted")
    )


def _insert() -> Prepared:
    admitted = _admission()
    values = select(
        bindparam("new_id", type_=Uuid()),
        admitted.c.owner_id,
        bindparam("new_title", type_=String()),
        bindparam("new_description", type_=String()),
        # Typed: in a SELECT list an untyped NULL would be text, not the column's type.
        cast(bindparam("new_completed"), Boolean()),
        bindparam("new_idempotency_key", type_=String()),
        cast(bindparam("new_idempotency_hash"), LargeBinary()),
    ).select_from(admitted)
    columns = ["id", "owner_id", "title", "description", "completed", "idempotency_key",
               "idempotency_hash"]  # fmt: skip
    return Prepared(
        pg_insert(task_t).from_select(columns, values).on_conflict_do_nothing().returning(*PUBLIC)
    )


# The insert of create_task and its look-ups after a refusal or a conflict, compiled once.
_INSERT = _insert()
_EARLIER = select(*PUBLIC, task_t.c.idempotency_hash).where(
    task_t.c.owner_id == bindparam("owner_id")
)
_EARLIER_BY_ID = Prepared(_EARLIER.where(task_t.c.id == bindparam("task_id")))
_EARLIER_BY_KEY = Prepared(
    _EARLIER.where(
        or_(task_t.c.id == bindparam("task_id"), task_t.c.idempotency_key == bindparam("key"))
    )
)
# An owner's first create (or first after the quota row was lost): make the row, then retry.
_NEW_QUOTA = Prepared(
    pg_insert(quota_t)
    .values(owner_id=bindparam("owner_id"), tasks=ZERO, window_creates=ZERO)
    .on_conflict_do_nothing()
)
_QUOTA = Prepared(
    select(
        quota_t.c.tasks,
        quota_t.c.window_creates,
        func.extract("epoch", func.now() - quota_t.c.window_started_at).label("window_age"),
    ).where(quota_t.c.owner_id == bindparam("owner_id"))
)


def body_hash(title: str, description: str | None, completed: bool) -> bytes:
    """The fingerprint of a validated create body (title trimmed, defaults filled in), so the
    same task sent with other spacing or key order is still the same request."""
    return hashlib.sha256(orjson.dumps([title, description, completed])).digest()


async def create_task(
    db: Database,
    *,
    owner_id: uuid.UUID,
    title: str,
    description: str | None,
    completed: bool,
    idempotency_key: str | None = None,
    rules: TaskRules,
) -> tuple[Row, bool]:
    """The task and whether it was created now (False: replayed for its Idempotency-Key).

    One statement checks both limits, counts the create and inserts. The id is chosen here,
    before the insert, so a repeat after a lost answer finds the row the first attempt stored
    instead of inserting a second one. A replay is answered even over a limit: it creates
    nothing.
    """
    task_id = uuid.uuid4()
    fingerprint = None if idempotency_key is None else body_hash(title, description, completed)
    values = {
        "new_id": task_id,
        "new_owner_id": owner_id,
        "new_title": title,
        "new_description": description,
        "new_completed": completed,
        "new_idempotency_key": idempotency_key,
        "new_idempotency_hash": fingerprint,
        "max_tasks": rules.max_tasks,
        "max_creates": rules.creates_per_window,
        "window": timedelta(seconds=rules.window_seconds),
    }
    earlier = _EARLIER_BY_KEY if idempotency_key is not None else _EARLIER_BY_ID
    earlier_params = {"owner_id": owner_id, "task_id": task_id, "key": idempotency_key}

    async def op(conn: RawConnection, attempt: int) -> tuple[Row, bool]:
        # Twice at most: an owner's first create finds no quota row, makes it, and retries.
        for _ in range(2):
            try:
                rows = await _INSERT.execute(conn, values)
            except psycopg.errors.ForeignKeyViolation:
                raise AccountGone from None  # owner_id's user is gone (foreign key)
            if rows:
                return rows[0], True
            found = await earlier.execute(conn, earlier_params)
            if found:
                row = found[0]
                stored_hash = row.pop("idempotency_hash")
                if row["id"] == str(task_id):
                    return row, True  # our own earlier attempt: created now
                if stored_hash is not None and stored_hash != fingerprint:
                    raise IdempotencyKeyReused
                return row, False
            quota = await _QUOTA.execute(conn, {"owner_id": owner_id})
            if not quota:
                try:
                    await _NEW_QUOTA.execute(conn, {"owner_id": owner_id})
                except psycopg.errors.ForeignKeyViolation:
                    raise AccountGone from None  # owner_id's user is gone (foreign key)
                continue
            refusal = _refusal(quota[0], rules)
            if refusal is not None:
                raise refusal
            # No limit is reached now: another create made the row after our insert looked.
        raise RuntimeError("the insert admitted nothing twice without a reason")

    return await db.run_raw(op)


def _refusal(quota: Row, rules: TaskRules) -> Exception | None:
    """Which limit refused the insert, from the quota row it left as it was (None: none is
    reached now)."""
    if quota["tasks"] >= rules.max_tasks:
        return TaskLimitReached(rules.max_tasks)
    window_left = rules.window_seconds - float(quota["window_age"])
    if window_left <= 0 or quota["window_creates"] < rules.creates_per_window:
        return None
    return TaskCreateRateLimited(
        rules.creates_per_window, rules.window_seconds, retry_after=max(1, math.ceil(window_left))
    )


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
        raise TaskNotFound
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
        raise TaskNotFound
    return row


async def delete_task(db: Database, *, owner_id: uuid.UUID, task_id: uuid.UUID) -> None:
    params = {"task_id": task_id, "owner_id": owner_id}

    async def op(conn: RawConnection, attempt: int) -> bool:
        deleted = bool(await _DELETE.execute(conn, params))
        # After a lost answer the repeat finds nothing because the first attempt deleted it.
        return deleted or attempt > 0

    if not await db.run_raw(op):
        await ensure_exists(db, user_id=owner_id)
        raise TaskNotFound
