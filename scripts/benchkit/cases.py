"""The request lists of the HTTP cases, each sent as real, logged-in users."""

from __future__ import annotations

import json
import os
import random
import urllib.parse
from datetime import datetime

import psycopg

from aido.models.task import SortOrder, TaskSort
from aido.queries.cursor import encode
from benchkit.client import call
from benchkit.database import conninfo
from benchkit.loadgen import Request
from benchkit.seed import VERBS, Seed

FIRST_PAGE = "/tasks?limit=50"
LIVE_CASE = "GET /health/live"
HEALTH_CASE = "GET /health"
NO_DB_WORK = (LIVE_CASE, HEALTH_CASE)  # run before the database ceiling
# The deep page: the cursor a client holds after walking ~900 pages of 100 (rows 90,000+).
DEEP_OFFSETS = tuple(range(90_000, 99_001, 1_000))


def _body(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def deep_cursors(url: str, seed: Seed, big_tasks: int) -> list[str]:
    """Cursors of rows far down the big user's list, encoded with the API's own encoder from
    the row a client would have reached (cheaper than walking 900 pages, and the same bytes)."""
    offsets = [o for o in DEEP_OFFSETS if o < big_tasks - 100] or [max(0, big_tasks - 100)]
    cursors = []
    with psycopg.connect(conninfo(url)) as conn:
        for offset in offsets:
            row = conn.execute(
                "SELECT id, created_at FROM task WHERE owner_id = %s "
                "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
                (seed.big.id, offset),
            ).fetchone()
            if row is None:
                raise RuntimeError("the big user has fewer tasks than the deep offset")
            last_id, created_at = row
            assert isinstance(created_at, datetime)
            key = {"id": last_id, "created_at": created_at}
            cursors.append(encode(TaskSort.CREATED_AT, SortOrder.DESC, key))
    return cursors


def check_deep_page(api: str, token: str, cursor: str) -> None:
    status, page = call(api, "GET", f"{FIRST_PAGE}&cursor={urllib.parse.quote(cursor)}",
                        token=token)  # fmt: skip
    if status != 200 or len(page["items"]) != 50 or not page["next_cursor"]:
        raise RuntimeError(f"the deep page is not a full page ({status})")


def hashing_slots(workers: int) -> int:
    """The server's Argon2 slots on default settings: usable CPUs / workers each, at least 1
    (aido.core.password_hashing.default_slots, computed here so that older code can be run)."""
    return max(1, len(os.sched_getaffinity(0)) // workers) * workers


def login_case(workers: int) -> str:
    return f"POST /auth/login (Argon2, {hashing_slots(workers)} at a time)"


def build(
    seed: Seed, tokens: dict[str, str], cursors: list[str], *, workers: int
) -> dict[str, list[Request]]:
    rng = random.Random(11)
    users = [u for u in seed.users if u.email in tokens]
    big_token = tokens[seed.big.email]
    any_token = tokens[users[0].email]
    creates = [
        Request("POST", "/tasks", tokens[u.email],
                _body({"title": f"{rng.choice(VERBS)} bench item {i}",
                       "description": "Created by scripts/bench."}))
        for i, u in enumerate(users * max(1, 1000 // len(users)))
    ]  # fmt: skip
    # Complete, then reopen, the same tasks, so a PATCH really changes its row. The reopen
    # half is rotated by half its length: wrk's second thread starts half-way through the
    # list, and must not be working on the row the first thread is working on.
    pairs = [(tokens[u.email], task_id) for u in users for task_id in u.task_ids]
    half = len(pairs) // 2
    patches = [
        Request("PATCH", f"/tasks/{task_id}", token, _body({"completed": value}))
        for value, order in ((True, pairs), (False, pairs[half:] + pairs[:half]))
        for token, task_id in order
    ]
    logins = [
        Request("POST", "/auth/login", "", _body({"email": u.email, "password": seed.password}))
        for u in users
    ]
    return {
        LIVE_CASE: [Request("GET", "/health/live", any_token)],
        HEALTH_CASE: [Request("GET", "/health", any_token)],
        "GET /tasks first page (50)": [Request("GET", FIRST_PAGE, tokens[u.email]) for u in users],
        "GET /tasks deep page (50, ~row 90k of 100k)": [
            Request("GET", f"{FIRST_PAGE}&cursor={urllib.parse.quote(c)}", big_token)
            for c in cursors
        ],
        "POST /tasks": creates,
        "PATCH /tasks/{id} (complete)": patches,
        # As many connections as the server has hashing slots: more would wait for a slot and
        # then be shed with 503 (by design, README "Sign-ups and password hashing").
        login_case(workers): logins,
    }
