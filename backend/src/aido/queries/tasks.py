"""Task statements. Each request runs one statement in the common case; a miss runs a second
one to tell a missing task (404) from a deleted user (401), or which limit refused a create.

Every statement the app sends about tasks is in `SHAPES` below: the fixed ones by name, and one
list query per (sort, order, completed filter, search?, cursor?), 72 in all, each built once
(tests/queries/test_shapes.py runs every one against Postgres, and checks the plans that an
index must serve).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
import psycopg
import psycopg.errors

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
from aido.core.keyed_limiter import KeyedLimiter, SlotWaitTimedOut
from aido.core.metrics import count_unknown_outcome
from aido.db.database import Connection, Database, Query, Row
from aido.models.task import SortOrder, TaskSort
from aido.queries import cursor as cursors
from aido.queries.users import ensure_exists

# What the API shows of a task. Ids come back as text, like every uuid column (db.database).
PUBLIC = ("id", "title", "description", "completed", "created_at", "updated_at")
_PUBLIC = ", ".join(PUBLIC)


# The list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListShape:
    sort: TaskSort
    order: SortOrder
    completed: bool | None  # the filter, when given
    search: bool  # `q`: ILIKE on title or description
    after: bool  # a cursor: the page after a (sort key, id) position


@functools.cache
def list_query(shape: ListShape) -> Query:
    """The list statement of one shape. Every shape is a range of the index led by
    (owner_id, sort key, id) and stops after `limit` rows (the search may use the trigram
    index instead: the planner chooses)."""
    key, descending = shape.sort.value, shape.order is SortOrder.DESC
    where = ["owner_id = %(owner_id)s"]
    if shape.completed is not None:
        where.append(f"completed = {'true' if shape.completed else 'false'}")
    if shape.search:
        where.append("(title ILIKE %(pattern)s ESCAPE '\\' OR description ILIKE %(pattern)s "
                     "ESCAPE '\\')")  # fmt: skip
    if shape.after:
        where.append(f"({key}, id) {'<' if descending else '>'} (%(after_key)s, %(after_id)s)")
    direction = "DESC" if descending else "ASC"
    return Query(
        f"SELECT {_PUBLIC} FROM task WHERE {' AND '.join(where)} "
        f"ORDER BY {key} {direction}, id {direction} LIMIT %(limit)s",
        PUBLIC,
    )


LIST_SHAPES = tuple(
    ListShape(sort, order, completed, search, after)
    for sort, order, completed, search, after in itertools.product(
        TaskSort, SortOrder, (None, True, False), (False, True), (False, True)
    )
)


def _like_pattern(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


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
    if q:
        params["pattern"] = _like_pattern(q)
    if cursor:
        params["after_key"], params["after_id"] = cursors.decode(cursor, sort, order)
    query = list_query(ListShape(sort, order, completed, bool(q), bool(cursor)))
    if q and rules is not None:
        rows = await _search(db, query, params, owner_id=owner_id, rules=rules)
    else:
        rows = await db.fetch_all(query, params)
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
WITH_TIMEOUT = "SELECT set_config('statement_timeout', %(statement_timeout_ms)s, true); "


async def _search(
    db: Database, query: Query, params: dict[str, Any], *, owner_id: uuid.UUID, rules: TaskRules
) -> list[Row]:
    bound = {**params, "statement_timeout_ms": str(math.ceil(rules.search_timeout_seconds * 1000))}
    sql = WITH_TIMEOUT + query.sql
    columns = query.columns

    async def op(conn: Connection, attempt: int) -> list[Row]:
        async with psycopg.AsyncClientCursor(conn) as cur:
            try:
                await cur.execute(sql, bound)
            except psycopg.errors.QueryCanceled:
                # Raised here, inside the attempt: the retry layer answers any psycopg
                # OperationalError that escapes it (QueryCanceled is one) as "unavailable".
                raise SearchTimedOut(rules.search_timeout_seconds) from None
            cur.nextset()
            return [dict(zip(columns, row, strict=True)) for row in await cur.fetchall()]

    try:
        async with rules.searches.hold(owner_id):
            return await db.run(op)
    except SlotWaitTimedOut:
        raise TooManySearches(retry_after=max(1, math.ceil(rules.search_timeout_seconds))) from None


# Create ----------------------------------------------------------------------------------

# The owner's quota row, counted and locked, or no row when a limit refuses; the insert takes
# its owner from it. A plain UPDATE: it locks the row, and under READ COMMITTED a create that
# waited for another re-evaluates the WHERE on the row that one left, so concurrent creates of
# one owner queue here and neither limit can be overrun by a race. (An upsert, which would also
# make the row of an owner's first create, cost ~100 µs of database CPU more per create:
# bench/README.md.) `tasks` itself is kept by the triggers of migration 0003; this statement
# only counts the create in its window, which has ended when it started `window` ago.
_WINDOW_OVER = "window_started_at <= now() - %(window)s"
CREATE = Query(
    "WITH admitted AS ("
    f"UPDATE task_quota SET window_started_at = CASE WHEN {_WINDOW_OVER} THEN now() "
    "ELSE window_started_at END, "
    f"window_creates = CASE WHEN {_WINDOW_OVER} THEN 1 ELSE window_creates + 1 END "
    "WHERE owner_id = %(owner_id)s AND tasks < %(max_tasks)s "
    f"AND ({_WINDOW_OVER} OR window_creates < %(max_creates)s) RETURNING owner_id) "
    "INSERT INTO task (id, owner_id, title, description, completed, idempotency_key, "
    "idempotency_hash) "
    # Typed: in a SELECT list an untyped NULL would be text, not the column's type.
    "SELECT %(task_id)s, owner_id, %(title)s, %(description)s::text, %(completed)s::boolean, "
    "%(idempotency_key)s::text, %(idempotency_hash)s::bytea FROM admitted "
    f"ON CONFLICT DO NOTHING RETURNING {_PUBLIC}",
    PUBLIC,
)
# The look-ups after the insert admitted nothing: our own earlier attempt, or the task made
# earlier with this Idempotency-Key.
_EARLIER = f"SELECT {_PUBLIC}, idempotency_hash FROM task WHERE owner_id = %(owner_id)s AND "
EARLIER_BY_ID = Query(_EARLIER + "id = %(task_id)s", (*PUBLIC, "idempotency_hash"))
EARLIER_BY_KEY = Query(
    _EARLIER + "(id = %(task_id)s OR idempotency_key = %(idempotency_key)s)",
    (*PUBLIC, "idempotency_hash"),
)
# An owner's first create (or first after the quota row was lost): make the row, then retry.
NEW_QUOTA = Query(
    "INSERT INTO task_quota (owner_id, tasks, window_creates) VALUES (%(owner_id)s, 0, 0) "
    "ON CONFLICT DO NOTHING"
)
QUOTA = Query(
    "SELECT tasks, window_creates, extract(epoch FROM now() - window_started_at) AS window_age "
    "FROM task_quota WHERE owner_id = %(owner_id)s",
    ("tasks", "window_creates", "window_age"),
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
    params = {
        "task_id": task_id,
        "owner_id": owner_id,
        "title": title,
        "description": description,
        "completed": completed,
        "idempotency_key": idempotency_key,
        "idempotency_hash": fingerprint,
        "max_tasks": rules.max_tasks,
        "max_creates": rules.creates_per_window,
        "window": timedelta(seconds=rules.window_seconds),
    }
    earlier = EARLIER_BY_KEY if idempotency_key is not None else EARLIER_BY_ID

    async def op(conn: Connection, attempt: int) -> tuple[Row, bool]:
        # Twice at most: an owner's first create finds no quota row, makes it, and retries.
        for _ in range(2):
            try:
                row = await conn.fetch_one(CREATE, params)
            except psycopg.errors.ForeignKeyViolation:
                raise AccountGone from None  # owner_id's user is gone (foreign key)
            if row is not None:
                if attempt:
                    count_unknown_outcome("task_create", already_done=False)
                return row, True
            found = await conn.fetch_one(earlier, params)
            if found is not None:
                stored_hash = found.pop("idempotency_hash")
                if found["id"] == str(task_id):
                    count_unknown_outcome("task_create", already_done=True)
                    return found, True  # our own earlier attempt: created now
                if stored_hash is not None and stored_hash != fingerprint:
                    raise IdempotencyKeyReused
                return found, False
            quota = await conn.fetch_one(QUOTA, params)
            if quota is None:
                try:
                    await conn.fetch_all(NEW_QUOTA, params)
                except psycopg.errors.ForeignKeyViolation:
                    raise AccountGone from None  # owner_id's user is gone (foreign key)
                continue
            refusal = _refusal(quota, rules)
            if refusal is not None:
                raise refusal
            # No limit is reached now: another create made the row after our insert looked.
        raise RuntimeError("the insert admitted nothing twice without a reason")

    return await db.run(op)


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


# Read, update, delete ----------------------------------------------------------------------

_ONE = "id = %(task_id)s AND owner_id = %(owner_id)s"
GET = Query(f"SELECT {_PUBLIC} FROM task WHERE {_ONE}", PUBLIC)
DELETE = Query(f"DELETE FROM task WHERE {_ONE} RETURNING id", ("id",))
# One statement for every PATCH: a field not sent keeps its value (set_<field> false), and
# updated_at moves only when a value really changes, so a repeated request (a client retry, or
# ours after a lost answer) leaves the task as the first did.
_FIELDS = (("title", "text"), ("description", "text"), ("completed", "boolean"))
UPDATE = Query(
    "UPDATE task SET "
    + "".join(f"{f} = CASE WHEN %(set_{f})s THEN %({f})s::{t} ELSE {f} END, " for f, t in _FIELDS)
    + "updated_at = CASE WHEN "
    + " OR ".join(f"(%(set_{f})s AND {f} IS DISTINCT FROM %({f})s::{t})" for f, t in _FIELDS)
    + f" THEN now() ELSE updated_at END WHERE {_ONE} RETURNING {_PUBLIC}",
    PUBLIC,
)

SHAPES: dict[str, Query] = {
    "create": CREATE, "earlier by id": EARLIER_BY_ID, "earlier by key": EARLIER_BY_KEY,
    "new quota": NEW_QUOTA, "quota": QUOTA, "get": GET, "update": UPDATE, "delete": DELETE,
    **{f"list {s.sort.value} {s.order.value} completed={s.completed} search={s.search} "
       f"after={s.after}": list_query(s) for s in LIST_SHAPES},
}  # fmt: skip


async def get_task(db: Database, *, owner_id: uuid.UUID, task_id: uuid.UUID) -> Row:
    row = await db.fetch_one(GET, {"task_id": task_id, "owner_id": owner_id})
    if row is None:
        await ensure_exists(db, user_id=owner_id)
        raise TaskNotFound
    return row


async def update_task(
    db: Database, *, owner_id: uuid.UUID, task_id: uuid.UUID, changes: dict[str, Any]
) -> Row:
    """Applies `changes` (the fields sent, by name)."""
    if not changes:
        return await get_task(db, owner_id=owner_id, task_id=task_id)
    params: dict[str, Any] = {"task_id": task_id, "owner_id": owner_id}
    for field, _ in _FIELDS:
        params[f"set_{field}"] = field in changes
        params[field] = changes.get(field)
    row = await db.fetch_one(UPDATE, params)
    if row is None:
        await ensure_exists(db, user_id=owner_id)
        raise TaskNotFound
    return row


async def delete_task(db: Database, *, owner_id: uuid.UUID, task_id: uuid.UUID) -> None:
    params = {"task_id": task_id, "owner_id": owner_id}

    async def op(conn: Connection, attempt: int) -> bool:
        deleted = await conn.fetch_one(DELETE, params) is not None
        if attempt:
            count_unknown_outcome("task_delete", already_done=not deleted)
        # After a lost answer the repeat finds nothing because the first attempt deleted it.
        return deleted or attempt > 0

    if not await db.run(op):
        await ensure_exists(db, user_id=owner_id)
        raise TaskNotFound
