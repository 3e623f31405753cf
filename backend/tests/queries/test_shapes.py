"""Every SQL statement the app can send (the SHAPES of each module in aido.queries), on Postgres.

- Its text is the one written in tests/queries/shapes.sql, which lists them all for a reader
  (regenerate it with AIDO_WRITE_SHAPES=1 after changing a statement on purpose).
- Postgres accepts it with the parameters the code binds (EXPLAIN: nothing is changed).
- Each list shape without a search is an index range scan in the order asked, with no sort
  and no scan of the owner's other rows: what keeps a page's cost flat however many tasks.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from aido.db.database import Query
from aido.models.task import SortOrder, TaskSort
from aido.queries import signing_secret, tasks, throttle, users
from tests.support.database import create_database, libpq, migrate, query

SHAPES_FILE = Path(__file__).with_name("shapes.sql")
MODULES = {"users": users, "tasks": tasks, "signing_secret": signing_secret, "throttle": throttle}
ALL: dict[str, Query] = {
    f"{module}: {name}": q for module, m in MODULES.items() for name, q in m.SHAPES.items()
}
OWNER = uuid.uuid4()


def _listing() -> str:
    return "".join(f"-- {name}\n{q.sql.strip()};\n\n" for name, q in ALL.items())


def test_the_statements_are_those_listed_in_shapes_sql() -> None:
    if os.environ.get("AIDO_WRITE_SHAPES"):
        SHAPES_FILE.write_text(_listing())
    assert SHAPES_FILE.read_text() == _listing(), "run with AIDO_WRITE_SHAPES=1 and review"


def _params(name: str) -> dict[str, Any]:
    """Values of every parameter name the queries use, of the types the code binds."""
    sort_key: object = "some title" if " title " in name else datetime.now(UTC)
    return {
        "owner_id": OWNER, "task_id": uuid.uuid4(), "user_id": OWNER, "limit": 51,
        "pattern": "%milk%", "after_key": sort_key, "after_id": uuid.uuid4(),
        "title": "t", "description": None, "completed": True, "set_title": True,
        "set_description": False, "set_completed": True, "idempotency_key": "k",
        "idempotency_hash": b"\x00" * 32, "max_tasks": 10, "max_creates": 10,
        "window": timedelta(seconds=60), "email": "a@example.com", "hashed_password": "h",
        "old": "h", "new": "h2", "since": 1, "seconds": 3600, "name": "jwt", "secret": "s",
        "keys": ["k1", "k2"], "reset": ["k1"], "attempts": [1, 2],
        "started": [datetime.now(UTC)] * 2, "next_at": [datetime.now(UTC)] * 2,
        "expires": [datetime.now(UTC)] * 2,
    }  # fmt: skip


@pytest.fixture(scope="module")
def planned(pg_admin_url: str) -> Iterator[psycopg.Connection]:
    """A database of its own with one owner of 3,000 tasks among 30,000, analysed."""
    url = create_database(pg_admin_url, f"aido_shapes_{uuid.uuid4().hex[:8]}")
    migrate(url)
    others = [uuid.uuid4() for _ in range(9)]
    for owner in [OWNER, *others]:
        query(url, 'INSERT INTO "user" (id, email, hashed_password) VALUES (%s, %s, %s)',
              owner, f"{owner}@example.com", "h")  # fmt: skip
    copy_sql = "COPY task (id, owner_id, title, completed, created_at, updated_at) FROM STDIN"
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with psycopg.connect(libpq(url)) as conn, conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for n in range(30_000):
            at = start + timedelta(minutes=n)
            copy.write_row((uuid.uuid4(), [OWNER, *others][n % 10], f"Task {n:05}",
                            n % 3 == 0, at, at + timedelta(hours=n % 7)))  # fmt: skip
    query(url, "VACUUM ANALYZE task")
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        yield conn


@pytest.mark.parametrize("name", list(ALL))
def test_postgres_accepts_the_statement_with_the_parameters_the_code_binds(
    planned: psycopg.Connection, name: str
) -> None:
    statement = ALL[name]
    for part in statement.sql.split("; "):  # the throttle's statements are one each
        planned.execute("EXPLAIN " + part, _params(name))


PLAIN_LISTS = [s for s in tasks.LIST_SHAPES if not s.search]


@pytest.mark.parametrize(
    "shape", PLAIN_LISTS,
    ids=[f"{s.sort.value}-{s.order.value}-completed={s.completed}-after={s.after}"
         for s in PLAIN_LISTS],
)  # fmt: skip
def test_every_list_shape_reads_its_index_in_order_and_stops_at_the_limit(
    planned: psycopg.Connection, shape: tasks.ListShape
) -> None:
    params = _params(" title " if shape.sort is TaskSort.TITLE else "")
    params["after_key"] = "Task 15000" if shape.sort is TaskSort.TITLE else datetime(
        2025, 1, 11, tzinfo=UTC
    )  # fmt: skip
    plan = "\n".join(
        r[0] for r in planned.execute("EXPLAIN " + tasks.list_query(shape).sql, params)
    )
    assert plan.lstrip().startswith("Limit"), plan
    assert "Sort" not in plan and "Seq Scan" not in plan, plan
    index = {TaskSort.CREATED_AT: "ix_task_owner_c", TaskSort.UPDATED_AT: "ix_task_owner_updated",
             TaskSort.TITLE: "ix_task_owner_title"}[shape.sort]  # fmt: skip
    assert f"Index Scan{' Backward' if shape.order is SortOrder.DESC else ''} using {index}" in plan
