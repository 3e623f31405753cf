"""What an operator sees of a fault: every log line of a request carries its id, and /metrics
counts the retries, how they ended, and the writes repeated after a lost answer."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support.database import query
from tests.support.fault_rig import FaultRig
from tests.support.metrics import METRICS_TOKEN, scrape, value
from tests.support.users import signup_and_login

RETRIED = "aido_db_retried_statements_total"
UNKNOWN = "aido_db_unknown_outcomes_total"


def lines_of(log: str, request_id: str) -> list[dict[str, object]]:
    return [e for e in map(json.loads, log.splitlines()) if e["request_id"] == request_id]


@pytest.mark.slow
def test_every_line_of_a_request_carries_its_id_and_the_retries_are_counted(
    rig: FaultRig,
) -> None:
    # No revocation read during the outage: one started by a request in the background (when
    # the list is 0.5-1 s old) would be a second retried statement, so the counts below would
    # depend on how long the sign-up's hashing took.
    env = {"LOG_FORMAT": "json", "METRICS_TOKEN": METRICS_TOKEN, "DB_RETRY_MAX_SECONDS": "3",
           "TOKEN_REVOCATION_SECONDS": "60"}  # fmt: skip
    with rig.server(**env) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        user = signup_and_login(c)
        before = scrape(server.url)

        # Past the budget: retried, then 503.
        rig.proxy.refuse()
        rig.proxy.drop_all()
        lost = c.get("/tasks", headers={**user.headers, "X-Request-ID": "outage-lost"})
        assert lost.status_code == 503 and lost.headers["x-request-id"] == "outage-lost"

        # Within the budget: the database is back while the request retries.
        answer: list[httpx.Response] = []
        headers = {**user.headers, "X-Request-ID": "outage-waited"}
        waiting = threading.Thread(target=lambda: answer.append(c.get("/tasks", headers=headers)))
        waiting.start()
        time.sleep(0.8)
        rig.proxy.restore()
        waiting.join(timeout=30)
        assert answer and answer[0].status_code == 200
        after = scrape(server.url)
        log = server.log()

    lost_lines = lines_of(log, "outage-lost")
    said = [(e["logger"], e["level"]) for e in lost_lines]
    assert ("aido.db", "WARNING") in said  # "transient database error …; retrying"
    assert ("aido.db", "ERROR") in said  # "database unavailable after N attempts"
    assert [e["status"] for e in lost_lines if e["logger"] == "aido.access"] == [503]
    # No line of the retry layer was logged without the id of the request it served.
    retry_lines = [e for e in map(json.loads, log.splitlines())
                   if e["logger"] == "aido.db" and "prepared" not in str(e["message"])]  # fmt: skip
    assert retry_lines and all(e["request_id"] for e in retry_lines), retry_lines
    assert [e["status"] for e in lines_of(log, "outage-waited")
            if e["logger"] == "aido.access"] == [200]  # fmt: skip

    def grown(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grown(RETRIED, outcome="exhausted") == 1
    assert grown(RETRIED, outcome="recovered") == 1
    assert grown("aido_db_retries_total") >= 2


@contextlib.contextmanager
def cut_once(rig: FaultRig, *, table: str, when: str, marker: str) -> Iterator[None]:
    """The first statement that writes a row whose title is `marker` loses its connection
    before it commits (the backend terminates itself in a trigger: SQLSTATE 57P01); the
    retry of it then runs normally. The app cannot tell this from an answer lost after a
    commit: it must look before it writes again."""
    query(rig.db_url, f"""
        CREATE SEQUENCE cut_once;
        CREATE FUNCTION cut_once() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF COALESCE(NEW.title, OLD.title) = '{marker}' AND nextval('cut_once') = 1 THEN
            PERFORM pg_terminate_backend(pg_backend_pid());
          END IF;
          RETURN COALESCE(NEW, OLD);
        END $$;
        CREATE TRIGGER cut_once {when} ON {table} FOR EACH ROW EXECUTE FUNCTION cut_once();
    """)  # fmt: skip
    try:
        yield
    finally:
        query(rig.db_url, f"DROP TRIGGER cut_once ON {table}; DROP FUNCTION cut_once(); "
                          "DROP SEQUENCE cut_once")  # fmt: skip


@pytest.mark.slow
def test_writes_repeated_after_a_lost_answer_are_counted(rig: FaultRig) -> None:
    with (
        rig.server(METRICS_TOKEN=METRICS_TOKEN) as server,
        httpx.Client(base_url=server.url, timeout=30) as c,
    ):
        user = signup_and_login(c)
        before = scrape(server.url)
        title = f"cut-{uuid.uuid4().hex[:8]}"
        with cut_once(rig, table="task", when="AFTER INSERT", marker=title):
            created = c.post("/tasks", json={"title": title}, headers=user.headers)
        assert created.status_code == 201, created.text
        with cut_once(rig, table="task", when="BEFORE DELETE", marker=title):
            deleted = c.delete(f"/tasks/{created.json()['id']}", headers=user.headers)
        assert deleted.status_code == 204
        after = scrape(server.url)
    assert rig.tasks() == []

    def grown(**labels: str) -> float:
        return value(after, UNKNOWN, **labels) - value(before, UNKNOWN, **labels)

    assert grown(operation="task_create", resolution="done_now") == 1
    assert grown(operation="task_delete", resolution="done_now") == 1
    assert grown(operation="task_create", resolution="already_done") == 0
    recovered = value(after, RETRIED, outcome="recovered")
    assert recovered - value(before, RETRIED, outcome="recovered") == 2
