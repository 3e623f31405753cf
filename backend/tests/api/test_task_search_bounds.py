"""Search (`GET /tasks?q=`) that one account cannot turn against the others.

The worst case is not a rare word (the trigram index answers it) but a pattern whose
trigrams are in every row and which matches none: `ILIKE '%aaa…ab%'` over descriptions of
`aaa…ab` repeated costs O(text × pattern) per row, ~0.25 ms a row here. The server has a
0.3 s search timeout, one search at a time per user, and 0.5 s of waiting for it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from aido.models.task import SortOrder, TaskSort
from aido.queries.tasks import ListShape, list_query
from tests.support.accounts import quick_user
from tests.support.database import create_database, libpq, migrate, query
from tests.support.server import Server, run_server
from tests.support.users import UserSession

TIMEOUT = 0.3
WORST_Q = "a" * 199 + "b"
WORST_DESCRIPTION = ("a" * 198 + "b") * 10  # every trigram of WORST_Q, never WORST_Q itself


@pytest.fixture(scope="module")
def bounded(server_env: dict[str, str], log_dir: Path) -> Iterator[Server]:
    env = {
        **server_env,
        "SEARCH_TIMEOUT_SECONDS": str(TIMEOUT),
        "SEARCH_CONCURRENCY_PER_USER": "1",
        "SEARCH_QUEUE_SECONDS": "0.5",
    }
    with run_server(env, log_dir / "search-bounds") as server:
        yield server


@pytest.fixture
def api(bounded: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=bounded.url, timeout=30) as c:
        yield c


def _seed(database_url: str, owner: uuid.UUID, rows: list[tuple[str, str | None]]) -> None:
    with (
        psycopg.connect(libpq(database_url)) as conn,
        conn.cursor() as cur,
        cur.copy("COPY task (id, owner_id, title, description) FROM STDIN") as copy,
    ):
        for title, description in rows:
            copy.write_row((uuid.uuid4(), owner, title, description))


@pytest.fixture
def attacker(api: httpx.Client, database_url: str) -> UserSession:
    user = quick_user(api, database_url)
    _seed(database_url, user.id, [("a" * 198 + "b", WORST_DESCRIPTION)] * 3000)
    return user


def _search(api: httpx.Client, user: UserSession, q: str) -> httpx.Response:
    return api.get("/tasks", params={"q": q}, headers=user.headers)


def test_a_search_past_the_timeout_is_cancelled_with_503(
    api: httpx.Client, attacker: UserSession
) -> None:
    started = time.monotonic()
    slow = _search(api, attacker, WORST_Q)
    elapsed = time.monotonic() - started
    assert slow.status_code == 503, slow.text
    assert slow.json() == {
        "detail": "The search took longer than 0.3 s and was cancelled; "
        "search for something more specific."
    }
    assert slow.headers["retry-after"] == "1"
    assert elapsed < TIMEOUT + 1.0
    # The connection went back to the pool clean: the next search on it answers.
    fast = _search(api, attacker, "aaab")
    assert fast.status_code == 200 and len(fast.json()["items"]) == 20


def test_searches_beyond_the_users_bound_wait_then_get_429(
    api: httpx.Client, attacker: UserSession
) -> None:
    statuses: list[int] = []

    def search() -> None:
        with httpx.Client(base_url=str(api.base_url), timeout=30) as c:
            statuses.append(_search(c, attacker, WORST_Q).status_code)

    threads = [threading.Thread(target=search) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # One runs (0.3 s), the next gets its slot after it (0.3 s more), the rest wait 0.5 s.
    assert 429 in statuses and 503 in statuses, statuses
    assert set(statuses) <= {429, 503}, statuses


def test_another_users_search_does_not_wait_for_the_attackers(
    api: httpx.Client, attacker: UserSession, database_url: str
) -> None:
    other = quick_user(api, database_url)
    _seed(database_url, other.id, [("Buy milk", "2 litres")])
    floods = [
        threading.Thread(target=lambda: _search(httpx.Client(base_url=str(api.base_url)),
                                                attacker, WORST_Q))
        for _ in range(3)
    ]  # fmt: skip
    for t in floods:
        t.start()
    try:
        answer = _search(api, other, "milk")
        assert answer.status_code == 200
        assert [t["title"] for t in answer.json()["items"]] == ["Buy milk"]
    finally:
        for t in floods:
            t.join()


def test_a_rare_word_is_found_through_the_trigram_index(
    api: httpx.Client, database_url: str, pg_admin_url: str
) -> None:
    # The plan on a database of its own (ANALYZE on the suite's would change the plans other
    # tests see): one user's 3,000 tasks among 30,000 of other users, statistics gathered.
    plans_db = create_database(pg_admin_url, f"aido_plan_{uuid.uuid4().hex[:8]}")
    migrate(plans_db)
    owners = [uuid.uuid4() for _ in range(11)]
    for owner in owners:
        query(plans_db, 'INSERT INTO "user" (id, email, hashed_password) VALUES (%s, %s, %s)',
              owner, f"{owner}@example.com", "not a hash")  # fmt: skip
    for owner in owners[1:]:
        _seed(plans_db, owner, [(f"Pay the bill {i}", "Reference number is in the last email.")
                                for i in range(3000)])  # fmt: skip
    rows: list[tuple[str, str | None]] = [(f"Buy milk {i}", "2 litres") for i in range(3000)]
    _seed(plans_db, owners[0], [*rows, ("Call the zeppelin pilot", None)])
    query(plans_db, "VACUUM ANALYZE task")
    stmt = list_query(ListShape(TaskSort.CREATED_AT, SortOrder.DESC, None, True, False))
    params = {"owner_id": owners[0], "pattern": "%zeppelin%", "limit": 21}
    with psycopg.connect(libpq(plans_db)) as conn:
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + stmt.sql, params))
        found = conn.execute(stmt.sql, params).fetchall()
    # A bitmap scan of the trigram index, the ILIKE its index condition (not a filter).
    index_conditions = [
        line for line in plan.split("Bitmap Index Scan on ix_task_owner_search")[1:]
        if "Index Cond:" in line and "~~*" in line.split("Index Cond:")[1].split("\n")[0]
    ]  # fmt: skip
    assert len(index_conditions) == 2, plan  # title and description, one BitmapOr
    # The owner in the GIN index does not lure a plain list away from its ordered index.
    plain = list_query(ListShape(TaskSort.CREATED_AT, SortOrder.DESC, None, False, False))
    with psycopg.connect(libpq(plans_db)) as conn:
        plain_plan = "\n".join(
            r[0] for r in conn.execute("EXPLAIN " + plain.sql, {"owner_id": owners[0], "limit": 51})
        )
    assert "ix_task_owner_created" in plain_plan, plain_plan
    assert [r[1] for r in found] == ["Call the zeppelin pilot"]
    # And through the API, on the suite's database, without regard to case.
    user = quick_user(api, database_url)
    _seed(database_url, user.id, [*rows[:100], ("Call the zeppelin pilot", None)])
    answer = _search(api, user, "ZEPPELIN")
    assert [t["title"] for t in answer.json()["items"]] == ["Call the zeppelin pilot"]
