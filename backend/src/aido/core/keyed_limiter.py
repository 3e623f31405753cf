"""A per-key concurrency bound inside one process: at most `limit` holders of a key at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class SlotWaitTimedOut(Exception):
    pass


class KeyedLimiter:
    """Callers over the bound wait (parked, holding no database connection) up to
    `wait_seconds`, then get SlotWaitTimedOut. Keys with no holder and no waiter are
    forgotten, so memory follows the keys in use, not every key ever seen."""

    def __init__(self, limit: int, wait_seconds: float) -> None:
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._slots: dict[Hashable, asyncio.Semaphore] = {}
        self._users: dict[Hashable, int] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        slots = self._slots.get(key)
        if slots is None:
            slots = self._slots[key] = asyncio.Semaphore(self.limit)
        self._users[key] = self._users.get(key, 0) + 1
        try:
            if slots.locked():
                try:
                    await asyncio.wait_for(slots.acquire(), self.wait_seconds)
                except TimeoutError:
                    raise SlotWaitTimedOut from None
            else:
                await slots.acquire()  # free: no timer, no task
            try:
                yield
            finally:
                slots.release()
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._slots[key]

    def in_use(self, key: Hashable) -> int:
        """Holders plus waiters of `key` (for tests and logs)."""
        return self._users.get(key, 0)
