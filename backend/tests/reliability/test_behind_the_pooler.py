"""Faults behind PgBouncer in transaction mode (Neon's topology): the server connections cut
behind the pooler, the pooler restarted, Postgres restarted or crashed behind it. The backend
is not restarted; requests in flight wait and succeed."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from tests.reliability.pooled_rig import PooledRig
from tests.reliability.rig import wait_for
from tests.reliability.traffic import API_OPS, MixedUser, PlainCreator, Worker
from tests.support.users import signup_and_login

OK = {200, 201}
ROUNDS = 2
OUTAGE_SECONDS = 5.0  # under the rig's DB_RETRY_MAX_SECONDS (10)


def terminate_server_connections(rig: PooledRig) -> None:
    assert rig.terminate_server_connections() > 0, "the fault hit no server connection"


def restart_the_pooler(rig: PooledRig) -> None:
    rig.pooler.restart()  # SIGTERM: every client and server connection closed at once


def restart_postgres(rig: PooledRig) -> None:
    rig.postgres.restart("fast")  # open transactions aborted, clients told 57P01


def wait_for_more_traffic(workers: list[Worker], requests: int = 20) -> None:
    """Until `requests` more have been answered: the pool's connections are in use again."""
    before = sum(len(w.outcomes) for w in workers)
    wait_for(lambda: sum(len(w.outcomes) for w in workers) >= before + requests,
             timeout=20, what=f"{requests} more requests")  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    "fault",
    [terminate_server_connections, restart_the_pooler, restart_postgres],
    ids=["server connections terminated", "pooler restarted", "postgres restarted"],
)
def test_requests_succeed_through_faults_behind_the_pooler(
    pooled_rig: PooledRig, fault: Callable[[PooledRig], None]
) -> None:
    with pooled_rig.server() as server, httpx.Client(base_url=server.url, timeout=30) as c:
        users = [signup_and_login(c) for _ in range(3)]
        workers = [MixedUser(server.url, u.headers, ops=API_OPS) for u in users]
        for w in workers:
            w.start()
        try:
            for _ in range(ROUNDS):
                wait_for_more_traffic(list(workers))
                fault(pooled_rig)
            wait_for_more_traffic(list(workers))
        finally:
            for w in workers:
                w.finish()

        outcomes = [o for w in workers for o in w.outcomes]
        failed = [o for o in outcomes if o.status not in OK]
        assert not failed, f"{len(failed)} of {len(outcomes)} requests failed: {failed[:5]}"
        wait_for(lambda: c.get("/health").status_code == 200, timeout=10, what="/health")
        assert server.process.poll() is None  # the same process served everything
        assert "Traceback" not in server.log()


@pytest.mark.slow
def test_every_201_is_stored_and_nothing_else_when_postgres_crashes_behind_the_pooler(
    pooled_rig: PooledRig,
) -> None:
    """Postgres is killed mid-traffic (immediate shutdown: a crash, with commits whose answer
    never left) and is back OUTAGE_SECONDS later, within the retry budget: every request
    waits and succeeds, and the tasks answered 201 are exactly the tasks stored."""
    # The creators outrun TASK_CREATES_PER_WINDOW (its own test: test_task_limits.py).
    with (
        pooled_rig.server(TASK_CREATES_PER_WINDOW="1000000") as server,
        httpx.Client(base_url=server.url, timeout=30) as c,
    ):
        user = signup_and_login(c)
        creators = [PlainCreator(server.url, user.headers, f"c{i}") for i in range(4)]
        for w in creators:
            w.start()
        try:
            wait_for_more_traffic(list(creators))
            pooled_rig.postgres.stop("immediate")
            time.sleep(OUTAGE_SECONDS)
            pooled_rig.postgres.start()
            wait_for_more_traffic(list(creators))
        finally:
            for w in creators:
                w.finish()

    statuses = Counter(o.status for w in creators for o in w.outcomes)
    assert set(statuses) == {201}, statuses  # no 503: the outage was within the budget
    waited = max(o.elapsed for w in creators for o in w.outcomes)
    assert waited >= OUTAGE_SECONDS - 1, "no request was in flight through the outage"
    stored = {str(title): str(task_id) for task_id, title in pooled_rig.tasks()}
    acked_ids = {a.title: a.task_id for w in creators for a in w.acked}
    assert stored == acked_ids
    assert len(pooled_rig.tasks()) == len(stored)  # and none twice
