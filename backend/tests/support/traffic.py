"""Clients that keep using the API from threads while a test breaks the database under them."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import httpx

REQUEST_TIMEOUT = 30.0  # far above every server-side bound: a hang shows up as a timeout
GIVE_UP_AFTER = 40.0  # a keyed create retried this long without a 201 fails the test


@dataclass
class Outcome:
    op: str
    status: int | str  # HTTP status, or the transport error's class name
    elapsed: float
    body: str = ""


class Worker(threading.Thread):
    """Runs `step()` until stopped; subclasses record what each request answered."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT)
        self.stop = threading.Event()
        self.outcomes: list[Outcome] = []
        self.error: BaseException | None = None

    def request(self, op: str, method: str, path: str, **kwargs: object) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response = self.client.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.outcomes.append(Outcome(op, type(exc).__name__, time.monotonic() - started))
            return None
        self.outcomes.append(
            Outcome(op, response.status_code, time.monotonic() - started, response.text[:300])
        )
        return response

    def step(self) -> None:
        raise NotImplementedError

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.step()
        except BaseException as exc:  # surfaced by finish()
            self.error = exc
        finally:
            self.client.close()

    def finish(self, timeout: float = GIVE_UP_AFTER + REQUEST_TIMEOUT) -> None:
        self.stop.set()
        self.join(timeout)
        assert not self.is_alive(), f"{self.name} still running after {timeout}s"
        if self.error is not None:
            raise self.error

    def statuses(self) -> Counter[int | str]:
        return Counter(o.status for o in self.outcomes)

    def unexpected(self, allowed: set[int]) -> list[Outcome]:
        return [o for o in self.outcomes if o.status not in allowed]


EVERY_OP = ("create", "list", "read", "patch", "complete", "health")
# Without /health, whose readiness answer is 503 while the database is unreachable, however
# briefly: the API requests are the ones that must wait and succeed.
API_OPS = EVERY_OP[:-1]


class MixedUser(Worker):
    """Every verb a user uses, on the user's own tasks; all of them are safe to retry."""

    def __init__(
        self, base_url: str, headers: dict[str, str], ops: tuple[str, ...] = EVERY_OP
    ) -> None:
        super().__init__(base_url, headers)
        self.cycle = itertools.cycle(ops)
        self.task_id: str | None = None

    def step(self) -> None:
        op = next(self.cycle)
        if op == "create" or self.task_id is None:
            r = self.request("create", "POST", "/tasks", json={"title": f"t-{uuid.uuid4()}"})
            if r is not None and r.status_code == 201:
                self.task_id = r.json()["id"]
        elif op == "list":
            self.request(op, "GET", "/tasks", params={"limit": 5})
        elif op == "read":
            self.request(op, "GET", f"/tasks/{self.task_id}")
        elif op == "patch":
            self.request(op, "PATCH", f"/tasks/{self.task_id}", json={"description": "x"})
        elif op == "complete":
            self.request(op, "POST", f"/tasks/{self.task_id}/complete")
        else:
            self.request(op, "GET", "/health")


@dataclass
class Acknowledged:
    title: str
    task_id: str
    replayed: bool


class PlainCreator(Worker):
    """Creates tasks without an Idempotency-Key, one request per title, no retries."""

    def __init__(self, base_url: str, headers: dict[str, str], prefix: str) -> None:
        super().__init__(base_url, headers)
        self.prefix = prefix
        self.counter = itertools.count()
        self.acked: list[Acknowledged] = []
        self.unanswered: list[str] = []  # titles whose request got no 201

    def step(self) -> None:
        title = f"{self.prefix}-{next(self.counter)}"
        r = self.request("create", "POST", "/tasks", json={"title": title})
        if r is not None and r.status_code == 201:
            self.acked.append(Acknowledged(title, r.json()["id"], False))
        else:
            self.unanswered.append(title)
            time.sleep(0.05)


class KeyedCreator(PlainCreator):
    """A well-behaved client: every task has an Idempotency-Key, and a 503 or a lost answer
    is retried with the same key until a 201 comes back."""

    def __init__(self, base_url: str, headers: dict[str, str], prefix: str) -> None:
        super().__init__(base_url, headers, prefix)
        self.gave_up: list[str] = []

    def step(self) -> None:
        title = f"{self.prefix}-{next(self.counter)}"
        key = f"key-{title}"
        deadline = time.monotonic() + GIVE_UP_AFTER
        while time.monotonic() < deadline:
            r = self.request("create", "POST", "/tasks", json={"title": title},
                             headers={"Idempotency-Key": key})  # fmt: skip
            if r is not None and r.status_code == 201:
                replayed = r.headers.get("Idempotent-Replayed") == "true"
                self.acked.append(Acknowledged(title, r.json()["id"], replayed))
                return
            if r is not None and r.status_code != 503:
                self.gave_up.append(title)  # anything but 201/503 is a failure of the test
                return
            time.sleep(0.2)
        self.gave_up.append(title)
