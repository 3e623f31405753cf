"""GET /tasks on a few hundred tasks: keyset pages, filters, search and every sort."""

from __future__ import annotations

import base64
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from tests.support.accounts import quick_user
from tests.support.errors import assert_422_names
from tests.support.task_rows import Row, insert_tasks
from tests.support.users import UserSession

# Request and answer behaviour only: served in this process (tests/conftest.py: client).
pytestmark = pytest.mark.in_process

N_TASKS = 300
MAX_PAGES = 50
BASE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def seeded(client: httpx.Client, database_url: str) -> tuple[UserSession, list[Row]]:
    """300 tasks with ties in every sort key (so the id tie-breaker matters), timestamps
    that differ by odd microseconds (so a cursor that rounds would skip or repeat rows),
    and titles that sort the same under any collation (lowercase letters and digits)."""
    rnd = random.Random(3)
    user = quick_user(client, database_url)
    rows = []
    for i in range(N_TASKS):
        created = BASE + timedelta(microseconds=1001 * (i // 3))
        rows.append(
            Row(
                id=uuid.uuid4(),
                title=f"t{rnd.randrange(120):03d}",
                description=rnd.choice([None, "plain", "a Blue pen", "BLUE sky", "green"]),
                completed=i % 4 == 0,
                created_at=created,
                updated_at=created + timedelta(microseconds=7 * rnd.randrange(40)),
            )
        )
    insert_tasks(database_url, user.id, rows)
    # Someone else's tasks must never show up in the pages.
    other = quick_user(client, database_url)
    insert_tasks(database_url, other.id, [Row(uuid.uuid4(), "t001", "BLUE", True, BASE, BASE)])
    return user, rows


def _walk(
    client: httpx.Client, user: UserSession, params: dict[str, Any]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Every page: the ids in order, and the pages themselves."""
    ids: list[str] = []
    pages: list[dict[str, Any]] = []
    cursor = None
    for _ in range(MAX_PAGES):
        response = client.get(
            "/tasks", params={**params, **({"cursor": cursor} if cursor else {})},
            headers=user.headers,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        pages.append(page)
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids, pages
    raise AssertionError(f"more than {MAX_PAGES} pages")


SORT_KEYS: dict[str, Callable[[Row], Any]] = {
    "created_at": lambda r: (r.created_at, r.id),
    "updated_at": lambda r: (r.updated_at, r.id),
    "title": lambda r: (r.title, r.id),
}


def test_pages_cover_every_task_once_in_order(
    client: httpx.Client, seeded: tuple[UserSession, list[Row]]
) -> None:
    user, rows = seeded
    for sort, key in SORT_KEYS.items():
        for order in ("asc", "desc"):
            expected = [str(r.id) for r in sorted(rows, key=key, reverse=order == "desc")]
            ids, pages = _walk(client, user, {"sort": sort, "order": order, "limit": 37})
            assert len(ids) == len(set(ids)) == N_TASKS, (sort, order)
            assert ids == expected, (sort, order)
            assert [len(p["items"]) for p in pages] == [37] * 8 + [4], (sort, order)


def test_items_carry_the_stored_values(
    client: httpx.Client, seeded: tuple[UserSession, list[Row]]
) -> None:
    user, rows = seeded
    by_id = {str(r.id): r for r in rows}
    for item in client.get("/tasks", params={"limit": 100}, headers=user.headers).json()["items"]:
        row = by_id[item["id"]]
        assert (item["title"], item["description"], item["completed"]) == (
            row.title, row.description, row.completed,
        )  # fmt: skip
        assert datetime.fromisoformat(item["created_at"]) == row.created_at
        assert datetime.fromisoformat(item["updated_at"]) == row.updated_at


def test_default_is_20_newest_first(
    client: httpx.Client, seeded: tuple[UserSession, list[Row]]
) -> None:
    user, rows = seeded
    page = client.get("/tasks", headers=user.headers).json()
    newest = sorted(rows, key=SORT_KEYS["created_at"], reverse=True)[:20]
    assert [i["id"] for i in page["items"]] == [str(r.id) for r in newest]
    assert page["next_cursor"]


def test_a_last_page_that_is_exactly_full_has_no_next_cursor(
    client: httpx.Client, seeded: tuple[UserSession, list[Row]]
) -> None:
    user, _ = seeded
    _, pages = _walk(client, user, {"limit": 100, "sort": "title"})
    assert [len(p["items"]) for p in pages] == [100, 100, 100]


def test_completed_filter_with_pages(
    client: httpx.Client, seeded: tuple[UserSession, list[Row]]
) -> None:
    user, rows = seeded
    for completed, count in ((True, 75), (False, 225)):
        params = {"completed": str(completed).lower(), "limit": 29, "sort": "title", "order": "asc"}
        ids, _ = _walk(client, user, params)
        expected = sorted((r for r in rows if r.completed is completed), key=SORT_KEYS["title"])
        assert ids == [str(r.id) for r in expected]
        assert len(ids) == count


def test_search_title_and_description_case_insensitively(
    client: httpx.Client, seeded: tuple[UserSession, list[Row]]
) -> None:
    user, rows = seeded
    for q in ("blue", "BLUE", "Blue", "lue s", "t00"):
        ids, _ = _walk(client, user, {"q": q, "limit": 13, "order": "asc"})
        needle = q.lower()
        expected = [
            r for r in rows if needle in r.title.lower() or needle in (r.description or "").lower()
        ]
        assert expected, "the data must have matches for the test to mean anything"
        assert ids == [str(r.id) for r in sorted(expected, key=SORT_KEYS["created_at"])], q


def test_search_and_completed_combine(
    client: httpx.Client, seeded: tuple[UserSession, list[Row]]
) -> None:
    user, rows = seeded
    ids, _ = _walk(
        client, user, {"q": "blue", "completed": "false", "sort": "updated_at", "limit": 11}
    )
    expected = [r for r in rows if not r.completed and "blue" in (r.description or "").lower()]
    expected.sort(key=SORT_KEYS["updated_at"], reverse=True)
    assert ids == [str(r.id) for r in expected]


def test_search_treats_percent_underscore_and_backslash_literally(
    client: httpx.Client, database_url: str
) -> None:
    user = quick_user(client, database_url)
    titles = ["100% natural", "100 natural", "snake_case", "snakeXcase", r"back\slash",
              "backslash", "Grocery LIST", "plain"]  # fmt: skip
    for title in titles:
        client.post("/tasks", json={"title": title}, headers=user.headers)
    client.post(
        "/tasks", json={"title": "other", "description": "see the list"}, headers=user.headers
    )

    def found(q: str) -> set[str]:
        page = client.get("/tasks", params={"q": q, "limit": 100}, headers=user.headers).json()
        return {item["title"] for item in page["items"]}

    assert found("%") == {"100% natural"}
    assert found("0% n") == {"100% natural"}
    assert found("_") == {"snake_case"}
    assert found("e_c") == {"snake_case"}
    assert found("\\") == {r"back\slash"}
    assert found("%%") == set()
    assert found("list") == found("LIST") == {"Grocery LIST", "other"}
    assert len(found("")) == len(titles) + 1  # an empty q filters nothing


def test_new_user_has_an_empty_list(client: httpx.Client, database_url: str) -> None:
    user = quick_user(client, database_url)
    assert client.get("/tasks", headers=user.headers).json() == {"items": [], "next_cursor": None}


def test_bad_query_parameters_are_422_naming_them(client: httpx.Client, database_url: str) -> None:
    user = quick_user(client, database_url)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"limit": "ten"}, "limit"),
        ({"sort": "priority"}, "sort"), ({"order": "sideways"}, "order"),
        ({"completed": "maybe"}, "completed"), ({"q": "x" * 201}, "q"),
        ({"cursor": "not a cursor"}, "cursor"), ({"cursor": "x" * 513}, "cursor"),
    ]  # fmt: skip
    for params, field in cases:
        response = client.get("/tasks", params=params, headers=user.headers)
        assert_422_names(response, "query", field)


def test_limit_100_is_allowed(client: httpx.Client, seeded: tuple[UserSession, list[Row]]) -> None:
    user, _ = seeded
    assert len(client.get("/tasks?limit=100", headers=user.headers).json()["items"]) == 100


def test_a_cursor_only_works_with_its_own_sort_and_order(
    client: httpx.Client, seeded: tuple[UserSession, list[Row]]
) -> None:
    user, _ = seeded
    cursor = client.get("/tasks", headers=user.headers).json()["next_cursor"]
    for other in ({"sort": "title"}, {"order": "asc"}, {"sort": "updated_at", "order": "asc"}):
        response = client.get("/tasks", params={**other, "cursor": cursor}, headers=user.headers)
        assert_422_names(response, "query", "cursor")


def _cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).rstrip(b"=").decode()


FORGED_CURSORS = {
    "bad-date": ("created_at", _cursor("created_at", "desc", "yesterday", str(uuid.uuid4()))),
    "null-date": ("created_at", _cursor("created_at", "desc", None, str(uuid.uuid4()))),
    "bad-id": ("created_at", _cursor("created_at", "desc", "2026-01-01T00:00:00+00:00", "x")),
    "short": ("created_at", _cursor("created_at", "desc")),
    "object": ("created_at", _cursor({"a": 1})),
    "nul-title": ("title", _cursor("title", "desc", "a\u0000b", str(uuid.uuid4()))),
    "not-utf8": ("created_at", base64.urlsafe_b64encode(b"\xff\xfe").decode()),
}


def test_forged_cursors_are_422_never_500(client: httpx.Client, database_url: str) -> None:
    user = quick_user(client, database_url)
    for case, (sort, cursor) in FORGED_CURSORS.items():
        response = client.get(
            "/tasks", params={"sort": sort, "cursor": cursor}, headers=user.headers
        )
        assert response.status_code == 422, (case, response.text)
        assert_422_names(response, "query", "cursor")
