"""Fault 2, suspend: every server connection is cut mid-traffic; the backend is not restarted."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support.fault_rig import FaultRig, wait_for
from tests.support.traffic import MixedUser
from tests.support.users import signup_and_login

OK = {200, 201}
ROUNDS = 4
USERS = 4


def terminate(rig: FaultRig) -> int:
    return rig.terminate_backends()  # SQLSTATE 57P01 admin_shutdown, as Neon's suspend


def drop(rig: FaultRig) -> int:
    return rig.proxy.drop_all()  # the TCP connections vanish (EOF), as a network cut


@pytest.mark.slow
@pytest.mark.parametrize("cut", [terminate, drop], ids=["pg_terminate_backend", "drop_all"])
def test_requests_succeed_through_suspends(rig: FaultRig, cut: type[int]) -> None:
    with rig.server() as server, httpx.Client(base_url=server.url, timeout=30) as c:
        users = [signup_and_login(c) for _ in range(USERS)]
        workers = [MixedUser(server.url, u.headers) for u in users]
        for w in workers:
            w.start()
        cut_connections = 0
        try:
            for _ in range(ROUNDS):
                # Let traffic fill the pool, then cut every connection under it.
                wait_for(rig.backend_count, timeout=10, what="pooled connections")
                time.sleep(0.3)
                cut_connections += cut(rig)  # type: ignore[operator]
            time.sleep(0.5)
        finally:
            for w in workers:
                w.finish()
        assert cut_connections >= ROUNDS, "the fault never hit a connection"

        outcomes = [o for w in workers for o in w.outcomes]
        failed = [o for o in outcomes if o.status not in OK]
        assert not failed, f"{len(failed)} of {len(outcomes)} requests failed: {failed[:5]}"
        assert len(outcomes) >= 20, "too little traffic to mean anything"
        assert server.process.poll() is None  # the same process served everything
        # And afterwards, plainly:
        assert c.get("/health").status_code == 200
        assert c.get("/tasks", headers=users[0].headers).status_code == 200
        assert "Traceback" not in server.log()
