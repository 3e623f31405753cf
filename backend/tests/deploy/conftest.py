"""Three replicas started together on an empty database, behind the project's nginx rules."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from aido.db.migrate import MIGRATION_LOCK_ID
from tests.deploy.proxy import PROXY_SOURCE_ADDRESS, Proxy, run_proxy
from tests.deploy.replicas import ReplicaSet, replica_env
from tests.support.database import create_database, libpq, query
from tests.support.metrics import METRICS_TOKEN

REPLICAS = 3
# Small limits keep the throttling tests short; each test uses its own emails and client
# addresses, so they do not share counters.
LOGIN_MAX_FAILURES = 4
LOGIN_MAX_FAILURES_PER_CLIENT = 6

# Every DDL statement that commits is recorded, so the test can count how often each object
# was created: once, whichever replica did it.
DDL_AUDIT = """
CREATE SCHEMA ddl_audit;
CREATE TABLE ddl_audit.log (tag text NOT NULL, identity text, pid int DEFAULT pg_backend_pid());
CREATE FUNCTION ddl_audit.record() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
    INSERT INTO ddl_audit.log (tag, identity) VALUES (r.command_tag, r.object_identity);
  END LOOP;
END $$;
CREATE EVENT TRIGGER ddl_audit ON ddl_command_end EXECUTE FUNCTION ddl_audit.record();
"""

WAITERS_ON_MIGRATION_LOCK = """
SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()
  AND l.classid = %s AND l.objid = %s
"""


@dataclass
class Startup:
    """What the replicas did while starting together."""

    waiting_on_lock: int  # replicas seen queued on the migration lock at once
    ddl: list[tuple[str, str]]  # (command tag, object) of every committed DDL statement
    ddl_sessions: int  # database sessions that ran DDL
    version: list[tuple[object, ...]]


@dataclass
class Cluster:
    replicas: ReplicaSet
    proxy: Proxy
    database_url: str
    startup: Startup


def _wait_for_lock_waiters(conn: psycopg.Connection, count: int, timeout: float) -> int:
    key = (MIGRATION_LOCK_ID >> 32, MIGRATION_LOCK_ID & 0xFFFFFFFF)
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        seen = int(conn.execute(WAITERS_ON_MIGRATION_LOCK, key).fetchone()[0])  # type: ignore[index]
        if seen >= count:
            break
        time.sleep(0.1)
    return seen


@pytest.fixture(scope="module")
def cluster(pg_admin_url: str, jwt_secret: str, log_dir: Path) -> Iterator[Cluster]:
    url = create_database(pg_admin_url, f"aido_replicas_{uuid.uuid4().hex[:8]}")
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(DDL_AUDIT)  # several statements: the simple query protocol, no parameters
    env = replica_env(
        url, jwt_secret,
        FORWARDED_ALLOW_IPS=PROXY_SOURCE_ADDRESS,
        LOGIN_MAX_FAILURES=str(LOGIN_MAX_FAILURES),
        LOGIN_MAX_FAILURES_PER_CLIENT=str(LOGIN_MAX_FAILURES_PER_CLIENT),
        LOGIN_WINDOW_SECONDS="60",
        # The kill-under-load writer creates far more than a user's create window allows
        # (TASK_CREATES_PER_WINDOW, tested in tests/api/test_task_limits.py).
        TASK_CREATES_PER_WINDOW="1000000",
        METRICS_TOKEN=METRICS_TOKEN,
        TASKS_MAX_PER_USER="1000000",
    )  # fmt: skip
    with contextlib.ExitStack() as stack:
        replicas = ReplicaSet(env, log_dir / "replicas", stack)
        # The test holds the migration lock while every replica starts, so all of them are
        # provably queued on it at the same moment; then it lets them go.
        with psycopg.connect(libpq(url), autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_ID,))
            replicas.start(REPLICAS)
            waiting = _wait_for_lock_waiters(holder, REPLICAS, timeout=90)
            holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_ID,))
        replicas.wait_live()
        rows = query(url, "SELECT tag, identity, pid FROM ddl_audit.log")
        startup = Startup(
            waiting_on_lock=waiting,
            ddl=[(str(tag), str(identity)) for tag, identity, _ in rows],
            ddl_sessions=len({pid for *_, pid in rows}),
            version=query(url, "SELECT version_num FROM alembic_version"),
        )
        proxy = stack.enter_context(run_proxy(replicas.ports, log_dir / "proxy"))
        yield Cluster(replicas, proxy, url, startup)
