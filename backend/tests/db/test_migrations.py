"""Migrations: from empty, idempotent, and safe when replicas start at once."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.support.database import create_database, migrate, query
from tests.support.server import base_env, run_server, wait_live

HEAD = "0003"
INDEXES = {
    "uq_user_email",
    "ix_user_tokens_revoked_xid",
    "ix_throttle_expires_at",
    "ix_task_owner_created",
    "ix_task_owner_updated",
    "ix_task_owner_title",
    "ix_task_owner_completed_created",
    "uq_task_owner_idempotency_key",
    "ix_task_owner_search",
}


@pytest.fixture
def empty_db(pg_admin_url: str) -> str:
    return create_database(pg_admin_url, f"aido_empty_{uuid.uuid4().hex[:8]}")


def schema_of(url: str) -> tuple[set[object], set[object], list[tuple[object, ...]]]:
    tables = {r[0] for r in query(url, "SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    indexes = {
        r[0] for r in query(url, "SELECT indexname FROM pg_indexes WHERE schemaname='public'")
    }
    return tables, indexes, query(url, "SELECT version_num FROM alembic_version")


def test_from_empty_then_again_changes_nothing(empty_db: str) -> None:
    migrate(empty_db)
    first = schema_of(empty_db)
    tables, indexes, version = first
    assert {"user", "task", "task_quota", "throttle", "signing_secret", "alembic_version"} <= tables
    assert indexes >= INDEXES
    assert version == [(HEAD,)]
    migrate(empty_db)
    assert schema_of(empty_db) == first


def test_task_owner_cascades_and_the_stored_email_is_unique(empty_db: str) -> None:
    # The app stores emails normalised (NFKC, case folded): equal addresses are equal text.
    migrate(empty_db)
    fk = query(
        empty_db,
        "SELECT confdeltype FROM pg_constraint WHERE conrelid = 'task'::regclass AND contype='f'",
    )
    assert fk == [("c",)]  # ON DELETE CASCADE
    insert = """INSERT INTO "user" (id, email, hashed_password) VALUES (%s, %s, 'h')"""
    query(empty_db, insert, uuid.uuid4(), "a@x.io")
    with pytest.raises(Exception, match="uq_user_email"):
        query(empty_db, insert, uuid.uuid4(), "a@x.io")


def test_default_list_query_uses_the_index(empty_db: str) -> None:
    # A database of its own: the suite's table has whatever statistics earlier tests left
    # (a few rows per owner make a bitmap scan and a sort look as cheap).
    migrate(empty_db)
    plan = query(
        empty_db,
        "EXPLAIN SELECT id FROM task WHERE owner_id = %s"
        " ORDER BY created_at DESC, id DESC LIMIT 21",
        uuid.uuid4(),
    )
    assert "ix_task_owner_created" in " ".join(str(r[0]) for r in plan)


def test_two_servers_starting_at_once_on_an_empty_database(
    empty_db: str, jwt_secret: str, log_dir: Path
) -> None:
    env = base_env(DATABASE_URL=empty_db, JWT_SECRET=jwt_secret)
    with (
        run_server(env, log_dir / "a", wait=False) as a,
        run_server(env, log_dir / "b", wait=False) as b,
    ):
        for server in (a, b):
            wait_live(server.url, server.process, server.log_path, timeout=60)
        lines = [
            [line for line in server.log().splitlines() if "aido.migrate" in line]
            for server in (a, b)
        ]
    # One line each; the first to take the lock applied everything, the other found it done.
    assert [len(found) for found in lines] == [1, 1], lines
    said = sorted(found[0].split("migrations: ")[1].split(" on ")[0] for found in lines)
    assert said[0].startswith("applied 0001 (") and f", {HEAD} (" in said[0], said
    assert said[1] == "none to apply", said
    assert all(f"at head ({HEAD})" in found[0] for found in lines)
    assert schema_of(empty_db)[2] == [(HEAD,)]


BARRIER_SCRIPT = """
import os, sys, time
from aido.db.migrate import upgrade_head
go = sys.argv[1]
open(go + "." + str(os.getpid()), "w").close()  # ready
deadline = time.monotonic() + 60
while not os.path.exists(go):  # every process is imported and waiting: release them together
    if time.monotonic() > deadline:
        sys.exit("barrier never opened")
    time.sleep(0.01)
upgrade_head()
print("migrated")
"""


def test_concurrent_upgrades_are_serialized(empty_db: str, tmp_path: Path) -> None:
    """Without the advisory lock, concurrent CREATE TABLEs of an empty schema collide."""
    go = tmp_path / "go"
    env = base_env(DATABASE_URL=empty_db)
    procs = [
        subprocess.Popen([sys.executable, "-c", BARRIER_SCRIPT, str(go)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]  # fmt: skip
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("go.*"))) < len(procs):  # all four imported and waiting
        assert time.monotonic() < deadline, "processes never reached the barrier"
        time.sleep(0.05)
    go.touch()
    results = [p.communicate(timeout=90) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err[-2000:]
        assert "migrated" in out
    assert schema_of(empty_db)[2] == [(HEAD,)]


def test_0002_normalises_stored_emails_and_keeps_colliding_rows(empty_db: str) -> None:
    from alembic import command

    from aido.db.migrate import alembic_config

    command.upgrade(alembic_config(empty_db), "0001")
    rows = {  # name: (email as stored before 0002, days old)
        "ada": ("ada@example.com", 9),
        "fullwidth-ada": ("ａｄａ@example.com", 8),  # normalises to ada's address: kept
        "fullwidth-bob": ("ｂｏｂ@example.com", 7),  # -> bob@example.com
        "ligature-finn": ("ﬁnn@x.io", 6),  # -> finn@x.io (the older of two)
        "fullwidth-finn": ("ｆｉｎｎ@x.io", 5),  # -> finn@x.io too: kept
        "sharp-s": ("straße@x.io", 4),  # case folding: -> strasse@x.io
        "dotless-i": ("ıvan@x.io", 3),  # already NFKC and folded: unchanged
    }
    ids = {name: uuid.uuid4() for name in rows}
    for name, (email, days) in rows.items():
        query(
            empty_db,
            """INSERT INTO "user" (id, email, hashed_password, created_at)
               VALUES (%s, %s, 'h', now() - make_interval(days => %s))""",
            ids[name], email, days,
        )  # fmt: skip
    command.upgrade(alembic_config(empty_db), "0002")
    stored = dict(query(empty_db, 'SELECT id, email FROM "user"'))
    assert {name: stored[ids[name]] for name in rows} == {
        "ada": "ada@example.com",
        "fullwidth-ada": "ａｄａ@example.com",
        "fullwidth-bob": "bob@example.com",
        "ligature-finn": "finn@x.io",
        "fullwidth-finn": "ｆｉｎｎ@x.io",
        "sharp-s": "strasse@x.io",
        "dotless-i": "ıvan@x.io",
    }
