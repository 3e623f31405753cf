"""Seed users and tasks with COPY: 100 x 1,000 tasks plus one user with 100,000 by default.

One Argon2 hash serves every user (hashing 101 passwords would take longer than the COPY).
Titles and descriptions are varied sentences of realistic length; created_at spreads over two
years and updated_at follows it, so the indexes look like those of a real table.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

from aido.core.security import hash_password
from benchkit.database import conninfo
from benchkit.progress import say

PASSWORD = "bench-password-not-secret"  # noqa: S105 - a throwaway account in a throwaway db

VERBS = ("Buy", "Call", "Email", "Fix", "Review", "Plan", "Book", "Pay", "Clean", "Write",
         "Read", "Send", "Order", "Update", "Prepare", "Check", "Renew", "Schedule", "Return",
         "Pick up")  # fmt: skip
OBJECTS = ("milk", "the dentist", "the landlord", "the quarterly report", "flight tickets",
           "the car insurance", "the kitchen sink", "a birthday present", "the garden fence",
           "the team offsite", "the electricity bill", "library books", "the pull request",
           "the budget spreadsheet", "passport photos", "the bike tyres", "grandma",
           "the conference talk", "new running shoes", "the tax return")  # fmt: skip
CONTEXTS = ("", "", "", " before Friday", " this weekend", " after work", " tomorrow morning",
            " for the trip", " with Sam", " (urgent)")  # fmt: skip
DETAILS = ("Remember to bring the receipt.", "Ask about the discount they mentioned.",
           "Two litres, semi-skimmed.", "Check the shared folder for the latest version.",
           "They close at six on weekdays.", "Budget is around 80 euros.",
           "Compare at least three offers first.", "Reference number is in the last email.",
           "Needs a second pair of eyes before it goes out.",
           "Do it in the morning when it is quiet.")  # fmt: skip


@dataclass
class SeededUser:
    id: uuid.UUID
    email: str
    task_ids: list[uuid.UUID] = field(default_factory=list)  # a sample, for PATCH


@dataclass
class Seed:
    users: list[SeededUser]
    big: SeededUser
    password: str
    tasks: int


def _title(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(CONTEXTS)}"


def _description(rng: random.Random) -> str | None:
    if rng.random() < 0.4:
        return None
    return " ".join(rng.sample(DETAILS, rng.randint(1, 3)))


def _task_rows(
    rng: random.Random, owner: SeededUser, count: int, now: datetime, sample: int
) -> list[tuple[object, ...]]:
    span = 730 * 86400
    rows: list[tuple[object, ...]] = []
    for i in range(count):
        task_id = uuid.uuid4()
        if i < sample:
            owner.task_ids.append(task_id)
        created = now - timedelta(seconds=rng.uniform(0, span))
        if rng.random() < 0.5:
            updated = created
        else:
            updated = created + timedelta(seconds=rng.uniform(0, (now - created).total_seconds()))
        completed = rng.random() < 0.35
        rows.append((task_id, owner.id, _title(rng), _description(rng), completed, created,
                     updated))  # fmt: skip
    return rows


def seed(url: str, *, users: int, tasks_per_user: int, big_tasks: int, sample: int = 20) -> Seed:
    rng = random.Random(7)  # the same data every run
    hashed = hash_password(PASSWORD)
    now = datetime.now(UTC)
    people = [SeededUser(uuid.uuid4(), f"bench-user-{i:04d}@example.com") for i in range(users)]
    big = SeededUser(uuid.uuid4(), "bench-big@example.com")
    total = users * tasks_per_user + big_tasks
    say(f"seeding {users} users x {tasks_per_user:,} tasks + 1 user x {big_tasks:,} tasks "
        f"({total:,} rows, COPY)…")  # fmt: skip
    with psycopg.connect(conninfo(url)) as conn:
        with conn.cursor() as cur:
            with cur.copy('COPY "user" (id, email, hashed_password, created_at) FROM STDIN') as cp:
                for person in [*people, big]:
                    cp.write_row((person.id, person.email, hashed, now - timedelta(days=800)))
            columns = "id, owner_id, title, description, completed, created_at, updated_at"
            with cur.copy(f"COPY task ({columns}) FROM STDIN") as cp:  # noqa: S608 - constant
                for person in people:
                    for row in _task_rows(rng, person, tasks_per_user, now, sample):
                        cp.write_row(row)
                for row in _task_rows(rng, big, big_tasks, now, sample):
                    cp.write_row(row)
        conn.commit()
        conn.autocommit = True
        # A steady-state table: statistics gathered, hint bits set, dirty pages flushed, so
        # the first measured case does not pay for the load.
        say("VACUUM ANALYZE + CHECKPOINT…")
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
    return Seed(users=people, big=big, password=PASSWORD, tasks=total)
