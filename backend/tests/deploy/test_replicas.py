"""The backend is stateless: N replicas behind the project's nginx rules act as one service.

The replicas are real `python -m aido` processes (the image's command) on one Postgres, and the
proxy is Debian's nginx with docker/proxy's rules (see conftest.py and proxy.py).
`scripts/replicas-smoke` checks the same under compose, with the image and the compose DNS.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from aido.testing.ports import free_port
from tests.deploy.conftest import (
    LOGIN_MAX_FAILURES,
    LOGIN_MAX_FAILURES_PER_CLIENT,
    REPLICAS,
    Cluster,
)
from tests.deploy.proxy import run_proxy
from tests.support.database import query
from tests.support.metrics import METRICS_TOKEN, scrape, value
from tests.support.users import PASSWORD, signup_and_login, unique_email

pytestmark = pytest.mark.slow

WRONG_PASSWORD = "not the password at all"


def client(base_url: str, *, source: str | None = None) -> httpx.Client:
    """A client that connects from loopback address `source` (each one is its own client)."""
    transport = httpx.HTTPTransport(local_address=source) if source else None
    return httpx.Client(base_url=base_url, timeout=30, transport=transport)


def failed_login(c: httpx.Client, email: str, **headers: str) -> httpx.Response:
    return c.post("/auth/login", json={"email": email, "password": WRONG_PASSWORD}, headers=headers)


def test_replicas_started_together_queue_on_the_lock_and_migrate_once(cluster: Cluster) -> None:
    startup = cluster.startup
    # All replicas were up and waiting on the advisory lock at the same time...
    assert startup.waiting_on_lock == REPLICAS
    # ...and the schema was built exactly once, in one session: no object created twice
    # (a migration may ALTER one object several times, and CREATE EXTENSION alters its
    # operator families as it goes).
    created = Counter(startup.ddl)
    assert ("CREATE TABLE", "public.task") in created, startup.ddl
    assert {ddl: n for ddl, n in created.items() if n > 1 and ddl[0].startswith("CREATE")} == {}
    assert startup.ddl_sessions == 1
    assert len(startup.version) == 1
    assert all(s.process.poll() is None for s in cluster.replicas.servers)


def test_a_token_from_one_replica_works_on_every_replica(cluster: Cluster) -> None:
    first, *others = cluster.replicas.servers
    with client(first.url) as c:
        user = signup_and_login(c)
        task = c.post("/tasks", json={"title": "made on replica 1"}, headers=user.headers)
        assert task.status_code == 201, task.text
    for server in cluster.replicas.servers:
        with client(server.url) as c:
            me = c.get("/users/me", headers=user.headers)
            assert me.status_code == 200, f"{server.url}: {me.text}"
            assert me.json()["email"] == user.email
    for server in others:
        with client(server.url) as c:
            read = c.get(f"/tasks/{task.json()['id']}", headers=user.headers)
            assert read.status_code == 200, f"{server.url}: {read.text}"


def test_an_account_deleted_on_one_replica_is_refused_by_every_replica(cluster: Cluster) -> None:
    servers = cluster.replicas.servers
    with client(servers[0].url) as c:
        user = signup_and_login(c)
    for server in servers:  # every replica has now verified (and cached) the token
        with client(server.url) as c:
            assert c.get("/users/me", headers=user.headers).status_code == 200
    with client(servers[-1].url) as c:
        assert c.delete("/users/me", headers=user.headers).status_code == 204
    for server in servers:
        with client(server.url) as c:
            assert c.get("/users/me", headers=user.headers).status_code == 401, server.url
            assert c.get("/tasks", headers=user.headers).status_code == 401, server.url


def test_failed_log_ins_for_one_email_count_across_replicas(cluster: Cluster) -> None:
    urls = itertools.cycle(s.url for s in cluster.replicas.servers)
    with client(cluster.replicas.servers[0].url, source="127.0.0.10") as c:
        victim = signup_and_login(c)
    # The failures land on the replicas in turn; no single replica sees the limit's worth.
    for _ in range(LOGIN_MAX_FAILURES):
        with client(next(urls), source="127.0.0.10") as c:
            assert failed_login(c, victim.email).status_code == 401
    for server in cluster.replicas.servers:
        with client(server.url, source="127.0.0.10") as c:
            right = c.post("/auth/login", json={"email": victim.email, "password": PASSWORD})
            assert right.status_code == 429, f"{server.url}: {right.text}"
            assert int(right.headers["retry-after"]) >= 1


def test_through_the_proxy_each_client_has_its_own_log_in_limit(cluster: Cluster) -> None:
    with client(cluster.proxy.url, source="127.0.0.20") as sprayer:
        # One failure per email (below the per-email limit), each claiming another origin:
        # the proxy appends the real peer and the backend takes that, so all of them count
        # against this one client.
        for i in range(LOGIN_MAX_FAILURES_PER_CLIENT):
            forged = {"X-Forwarded-For": f"198.51.100.{i + 1}"}
            assert failed_login(sprayer, unique_email("spray"), **forged).status_code == 401
        refused = failed_login(sprayer, unique_email("spray"), **{"X-Forwarded-For": "1.2.3.4"})
        assert refused.status_code == 429, refused.text
    # Another client through the same proxy is not held back: the backend tells clients apart
    # by the proxy's X-Forwarded-For, not by the proxy's own address.
    with client(cluster.proxy.url, source="127.0.0.21") as other:
        user = signup_and_login(other)
        assert user.token


def test_a_replica_trusts_x_forwarded_for_only_from_the_proxy(cluster: Cluster) -> None:
    victim_address = "127.0.0.31"
    # Straight to a replica, claiming to be the victim: the header is not believed, so the
    # failures count against the sender's own address...
    with client(cluster.replicas.servers[1].url, source="127.0.0.30") as forger:
        for _ in range(LOGIN_MAX_FAILURES_PER_CLIENT):
            forged = {"X-Forwarded-For": victim_address}
            assert failed_login(forger, unique_email("forge"), **forged).status_code == 401
        assert failed_login(forger, unique_email("forge")).status_code == 429
    # ...and the victim, through the proxy, logs in as usual.
    with client(cluster.proxy.url, source=victim_address) as victim:
        assert signup_and_login(victim).token


def test_the_proxy_answers_its_own_errors_in_the_api_error_shape(
    cluster: Cluster, tmp_path: Path
) -> None:
    with client(cluster.proxy.url) as c:
        # Over the backend's MAX_BODY_BYTES: the backend's 413; over the proxy's 1 MiB: the
        # proxy's, in the same shape.
        for size in (100_000, 1_100_000):
            body = b'{"title": "' + b"x" * size + b'"}'
            r = c.post("/tasks", content=body, headers={"Content-Type": "application/json"})
            assert r.status_code == 413, (size, r.text[:200])
            assert set(r.json()) == {"detail"}
    # No replica answers at all: 503 with Retry-After, JSON, never nginx's HTML page.
    with run_proxy([free_port()], tmp_path / "proxy") as lonely, client(lonely.url) as c:
        r = c.get("/tasks", headers={"X-Request-ID": "lonely-1"})
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/json"
        assert set(r.json()) == {"detail"} and int(r.headers["retry-after"]) >= 1
        assert r.headers["x-request-id"] == "lonely-1"


def test_metrics_are_scraped_from_each_replica_never_through_the_proxy(
    cluster: Cluster,
) -> None:
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    with client(cluster.proxy.url) as c:
        hidden = c.get("/metrics", headers={**bearer, "X-Request-ID": "scrape-1"})
        assert hidden.status_code == 404 and hidden.json() == {"detail": "Not Found"}
        assert hidden.headers["x-request-id"] == "scrape-1"
    for server in cluster.replicas.servers:
        samples = scrape(server.url)
        assert value(samples, "aido_db_pool_max_connections") > 0


def test_the_proxy_keeps_a_plain_request_id_and_replaces_any_other(cluster: Cluster) -> None:
    sent = {"plain": "req-7f3a.1:2", "spaces": "two words", "too long": "x" * 200}
    with client(cluster.proxy.url) as c:
        for value in sent.values():
            assert c.get("/health/live", headers={"X-Request-ID": value}).status_code == 200
            c.get("/users/me", headers={"X-Request-ID": value})  # health is not logged
    logged = [e["request_id"] for e in cluster.proxy.access_log() if e["path"] == "/users/me"]
    assert sent["plain"] in logged
    made = logged[-2:]  # the two refused values were replaced by ids made by the proxy
    assert all(len(rid) == 32 and rid not in sent.values() for rid in made), made


@dataclass(eq=False)  # a Thread must stay hashable
class Writer(threading.Thread):
    """Creates tasks through the proxy until stopped. With `keyed`, each task has an
    Idempotency-Key and a 503 is retried with that key until it is answered 201."""

    base_url: str
    headers: dict[str, str]
    prefix: str
    keyed: bool
    stop: threading.Event = field(default_factory=threading.Event)
    acked: dict[str, str] = field(default_factory=dict)  # title -> id answered 201
    unanswered: set[str] = field(default_factory=set)  # titles never answered 201
    statuses: Counter[int | str] = field(default_factory=Counter)
    acked_at: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(daemon=True)

    def create(self, c: httpx.Client, title: str) -> bool:
        headers = {"Idempotency-Key": f"key-{title}"} if self.keyed else {}
        try:
            r = c.post("/tasks", json={"title": title}, headers=headers)
        except httpx.HTTPError as exc:
            self.statuses[type(exc).__name__] += 1
            return False
        self.statuses[r.status_code] += 1
        if r.status_code == 201:
            self.acked[title] = r.json()["id"]
            self.acked_at.append(time.monotonic())
            return True
        return False

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=30) as c:
            for n in itertools.count():
                if self.stop.is_set():
                    return
                title = f"{self.prefix}-{n}"
                deadline = time.monotonic() + 30
                while not self.create(c, title):
                    if not self.keyed or time.monotonic() > deadline:
                        self.unanswered.add(title)
                        break
                    time.sleep(0.2)


def test_a_replica_killed_under_load_loses_no_acknowledged_write(cluster: Cluster) -> None:
    with client(cluster.proxy.url) as c:
        user = signup_and_login(c)
    writers = [
        Writer(cluster.proxy.url, user.headers, f"{kind}{i}-{uuid.uuid4().hex[:6]}", kind == "k")
        for kind in ("k", "p")
        for i in range(2)
    ]
    for w in writers:
        w.start()
    try:
        time.sleep(1.5)
        killed_at = time.monotonic()
        victim = cluster.replicas.servers[1]
        cluster.replicas.kill(1)
        time.sleep(2.5)
    finally:
        for w in writers:
            w.stop.set()
        for w in writers:
            w.join(timeout=60)
    try:
        assert not any(w.is_alive() for w in writers), "a writer is still running"
        statuses = sum((w.statuses for w in writers), Counter())
        # A request cut by the kill is answered 503 (by the proxy, as JSON), never a 500 or
        # a dropped connection; the others went to the surviving replicas.
        assert set(statuses) <= {201, 503}, statuses
        victim_address = f"127.0.0.1:{victim.port}"
        served_by_victim = [
            e for e in cluster.proxy.access_log()
            if e["path"] == "/tasks" and e["upstream"].startswith(victim_address)
        ]  # fmt: skip
        assert served_by_victim, "the killed replica never took part in the load"
        assert sum(t > killed_at + 0.5 for w in writers for t in w.acked_at) >= 5

        rows = query(
            cluster.database_url,
            "SELECT title, id::text FROM task WHERE owner_id = %s",
            user.id,
        )
        stored = Counter(str(title) for title, _ in rows)
        assert [t for t, n in stored.items() if n > 1] == [], "a task was stored twice"
        ids = {str(title): str(task_id) for title, task_id in rows}
        acked = {t: i for w in writers for t, i in w.acked.items()}
        assert len(acked) >= 20, "too little traffic to mean anything"
        # Every 201 is a stored task, with the id the client was given.
        assert {t: i for t, i in acked.items() if ids.get(t) != i} == {}
        # Keyed writers retried every 503 with the same key: exactly their 201s exist.
        for w in writers:
            if w.keyed:
                assert not w.unanswered
                assert {t for t in ids if t.startswith(w.prefix + "-")} == set(w.acked)
            else:
                # A plain create cut after its commit may exist unacknowledged (that is what
                # Idempotency-Key is for), at most the one in flight when the replica died.
                extra = {t for t in ids if t.startswith(w.prefix + "-")} - set(w.acked)
                assert extra <= w.unanswered
                assert len(extra) <= 1
    finally:
        cluster.replicas.replace(1)
