"""Tasks written straight into the suite's database: hundreds of rows in milliseconds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import psycopg

from tests.support.database import libpq


@dataclass(frozen=True)
class Row:
    id: uuid.UUID
    title: str
    description: str | None
    completed: bool
    created_at: datetime
    updated_at: datetime


def insert_tasks(database_url: str, owner_id: uuid.UUID, rows: list[Row]) -> None:
    with psycopg.connect(libpq(database_url)) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO task (id, owner_id, title, description, completed, created_at,"
            " updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(r.id, owner_id, r.title, r.description, r.completed, r.created_at, r.updated_at)
             for r in rows],
        )  # fmt: skip
