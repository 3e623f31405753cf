"""Fault 4: through suspends and an outage, every acknowledged task exists exactly once."""

from __future__ import annotations

import time
from collections import Counter

import httpx
import pytest

from tests.reliability.rig import FaultRig, wait_for
from tests.reliability.traffic import KeyedCreator, PlainCreator
from tests.support.users import signup_and_login

OUTAGE_SECONDS = 10.0


@pytest.mark.slow
def test_nothing_lost_nothing_doubled_through_suspends_and_an_outage(rig: FaultRig) -> None:
    # The traffic creates faster than one person would: lift the per-user create window
    # (TASK_CREATES_PER_WINDOW, tested in tests/api/test_task_limits.py), not the point here.
    with (
        rig.server(TASK_CREATES_PER_WINDOW="1000000", TASKS_MAX_PER_USER="1000000") as server,
        httpx.Client(base_url=server.url, timeout=30) as c,
    ):
        user = signup_and_login(c)
        keyed = [KeyedCreator(server.url, user.headers, f"k{i}") for i in range(3)]
        plain = [PlainCreator(server.url, user.headers, f"p{i}") for i in range(2)]
        creators: list[PlainCreator] = [*keyed, *plain]
        for w in creators:
            w.start()
        try:
            # Fault 2, twice each way, mid-traffic.
            for cut in (rig.terminate_backends, rig.proxy.drop_all) * 2:
                wait_for(rig.backend_count, timeout=10, what="pooled connections")
                time.sleep(0.4)
                assert cut() > 0
            time.sleep(0.5)
            acked_before_outage = sum(len(w.acked) for w in creators)
            suspend_failures = [o for w in creators for o in w.unexpected({201})]
            # Fault 3.
            rig.proxy.refuse()
            rig.proxy.drop_all()
            time.sleep(OUTAGE_SECONDS)
            rig.proxy.restore()
            wait_for(lambda: c.get("/health").status_code == 200, timeout=10, what="recovery")
            time.sleep(1.0)  # creators work again after the outage
        finally:
            for w in creators:
                w.finish()

        # Through suspends alone, every request was answered 201: nothing needed the client.
        assert not suspend_failures, suspend_failures[:5]
        assert acked_before_outage >= 20, "too little traffic to mean anything"
        statuses = Counter(o.status for w in creators for o in w.outcomes)
        assert set(statuses) <= {201, 503}, statuses  # no 500, no hang, no transport error
        assert statuses[503] > 0, "the outage never reached a request"

        rows = rig.tasks()
        ids_by_title = Counter(str(title) for _, title, _ in rows)
        doubled = [t for t, n in ids_by_title.items() if n > 1]
        assert not doubled, f"tasks stored twice: {doubled[:5]}"
        stored = {str(title): str(task_id) for task_id, title, _ in rows}

        # Every 201 is a stored task, with the id the client was given.
        acked = {a.title: a.task_id for w in creators for a in w.acked}
        missing = {t: i for t, i in acked.items() if stored.get(t) != i}
        assert not missing, f"acknowledged but not stored: {list(missing)[:5]}"

        # Keyed clients retried every 503 with the same key until a 201: exactly their 201s
        # exist, one per key, however many attempts it took.
        for w in keyed:
            assert not w.gave_up, w.gave_up[:5]
        keyed_titles = {a.title for w in keyed for a in w.acked}
        keyed_stored = {t for t in stored if t.startswith("k")}
        assert keyed_stored == keyed_titles

        # Plain requests: a 503 means "not known to be done"; a task whose INSERT committed
        # just as its connection was cut, with the database then gone for longer than the
        # retry budget, may exist (that is what Idempotency-Key is for). Nothing else may.
        plain_stored = {t for t in stored if t.startswith("p")}
        plain_acked = {a.title for w in plain for a in w.acked}
        unanswered = {t for w in plain for t in w.unanswered}
        assert plain_stored - plain_acked <= unanswered
        assert len(plain_stored - plain_acked) <= len(plain), "more than one in-flight each"


@pytest.mark.slow
def test_every_201_is_stored_and_nothing_else_through_an_outage_within_the_budget(
    rig: FaultRig,
) -> None:
    """Commits whose connection is cut before the answer (suspends mid-traffic), then
    connections refused for 5 s with a 10 s budget: every unknown outcome is resolved before
    answering, so every create is answered 201 and the 201s are exactly the stored tasks."""
    with (
        rig.server(
            DB_RETRY_MAX_SECONDS="10",
            TASK_CREATES_PER_WINDOW="1000000",
            TASKS_MAX_PER_USER="1000000",
        ) as server,
        httpx.Client(base_url=server.url, timeout=30) as c,
    ):
        user = signup_and_login(c)
        creators = [PlainCreator(server.url, user.headers, f"p{i}") for i in range(4)]
        for w in creators:
            w.start()

        def more_creates(n: int = 20) -> None:
            before = sum(len(w.outcomes) for w in creators)
            wait_for(lambda: sum(len(w.outcomes) for w in creators) >= before + n,
                     timeout=20, what="creates")  # fmt: skip

        try:
            for cut in (rig.proxy.drop_all, rig.terminate_backends, rig.proxy.drop_all):
                more_creates()
                cut()
            more_creates()
            rig.proxy.refuse()
            rig.proxy.drop_all()
            time.sleep(5.0)
            rig.proxy.restore()
            more_creates()
        finally:
            for w in creators:
                w.finish()

    statuses = Counter(o.status for w in creators for o in w.outcomes)
    assert set(statuses) == {201}, statuses
    rows = rig.tasks()
    stored = {str(title): str(task_id) for task_id, title, _ in rows}
    assert len(rows) == len(stored), "a task was stored twice"
    assert stored == {a.title: a.task_id for w in creators for a in w.acked}
