"""Token revocation as one worker sees it, checked on every request without a round trip.

A password change or a log-out everywhere raises the user's token generation in the database
(queries.users.revoke_tokens); tokens of a lower generation are revoked. Each worker keeps the
raised generations of the last token lifetime in memory and reads what changed since its last
read at most every `max_age` seconds, on demand: a request that finds the list older than
`max_age` waits for a read (one small indexed statement), and one that finds it older than half
of that starts a read in the background, so under steady traffic no request waits. An idle
worker reads nothing (a Neon compute may suspend). No LISTEN/NOTIFY: it does not pass through a
transaction-mode pooler.

The bound: a request that arrives `max_age` seconds after a revocation was answered is checked
against a read made after it. The worker that revoked knows at once (`note`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("aido.security")


@dataclass(frozen=True)
class RevocationBatch:
    # Where the next read starts: the oldest transaction id still running when this read's
    # snapshot was taken; every revocation not in this batch has a transaction id at or above.
    watermark: int
    # (user id, lowest valid generation) for each revocation read.
    floors: list[tuple[uuid.UUID, int]]


# since=None: the first read, of every revocation within the token lifetime.
FetchRevocations = Callable[[int | None], Awaitable[RevocationBatch]]


class RevocationList:
    def __init__(
        self,
        fetch: FetchRevocations,
        *,
        max_age: float,
        retain: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self.max_age = max_age
        # Tokens live JWT_EXPIRE_MINUTES at most (TokenSigner refuses older ones), so a floor
        # can be forgotten that long after it was read.
        self._retain = retain
        self._clock = clock
        self._floors: dict[uuid.UUID, tuple[int, float]] = {}  # user -> (generation, forget at)
        self._watermark: int | None = None
        self._fresh_at = -float("inf")  # when the last completed read was sent
        self._reading: asyncio.Task[None] | None = None

    def is_revoked(self, user_id: uuid.UUID, generation: int) -> bool:
        floor = self._floors.get(user_id)
        return floor is not None and generation < floor[0]

    def note(self, user_id: uuid.UUID, generation: int) -> None:
        """This worker revoked the user's tokens below `generation`: effective at once."""
        self._raise(user_id, generation, self._clock())

    async def ensure_fresh(self) -> None:
        arrived = self._clock()
        while True:
            age = arrived - self._fresh_at
            if age < self.max_age / 2:
                return
            reading = self._reading if self._reading and not self._reading.done() else None
            reading = reading or self._start_read()
            if age < self.max_age:
                return  # fresh enough for this request; the read lands for the next ones
            # A read started before `arrived - max_age` is not enough: loop and start another.
            await asyncio.shield(reading)

    async def refresh(self) -> None:
        """Read now (start-up)."""
        await self._start_read()

    def _start_read(self) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._read())
        task.add_done_callback(_retrieve)
        self._reading = task
        return task

    async def _read(self) -> None:
        sent = self._clock()
        batch = await self._fetch(self._watermark)
        for user_id, generation in batch.floors:
            self._raise(user_id, generation, sent)
        self._watermark = batch.watermark
        self._fresh_at = max(self._fresh_at, sent)
        self._forget(sent)

    def _raise(self, user_id: uuid.UUID, generation: int, now: float) -> None:
        current = self._floors.get(user_id)
        if current is None or generation >= current[0]:
            self._floors[user_id] = (generation, now + self._retain)

    def _forget(self, now: float) -> None:
        expired = [user for user, (_, forget_at) in self._floors.items() if forget_at < now]
        for user in expired:
            del self._floors[user]

    def __len__(self) -> int:
        return len(self._floors)


def _retrieve(task: asyncio.Task[None]) -> None:
    # A background read that failed is retried by the next request; its awaiters, if any,
    # got the error (503). Retrieved here so asyncio does not log it as never retrieved.
    if not task.cancelled() and task.exception() is not None:
        log.debug("revocation read failed: %s", type(task.exception()).__name__)
