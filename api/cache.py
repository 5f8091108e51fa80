"""A small cache of serialised answers: time to live, stale-while-revalidate, one computation per key.

/api/rankings and /api/objects are read far more often than the marts change (dbt refreshes them every
few minutes), so an answer may be served for ``ttl`` seconds: at 1,000 requests/s this turns ~1,000 queries
a second into one per distinct query string and TTL. Concurrent misses of one key share one computation.
After the TTL an entry is still served (for at most another TTL) while one request refreshes it in the
background, so no reader waits for the database once a key is warm. Answers are thus at most 2 x TTL old.
Each entry's TTL is jittered (75-100 %) and at most ``concurrency`` computations run at once, so keys warmed
together do not all refresh in one burst that would starve the event loop of the GIL.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

log = logging.getLogger(__name__)


class TTLCache:
    def __init__(self, ttl: float, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic,
                 concurrency: int = 2, jitter: float = 0.25):
        self.ttl, self.max_entries, self.clock, self.jitter = ttl, max_entries, clock, jitter
        self.concurrency = concurrency
        self._limit: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None  # per event loop
        # key -> (time it turns stale, time it expires, value)
        self._entries: OrderedDict[Hashable, tuple[float, float, bytes]] = OrderedDict()
        self._pending: dict[Hashable, asyncio.Future[bytes]] = {}
        self._refreshing: set[asyncio.Task] = set()
        self.hits = self.misses = self.stale = 0

    def clear(self) -> None:
        self._entries.clear()

    def fresh(self, key: Hashable) -> bytes | None:
        """The value if it is younger than the TTL (the hot path: no await, no computation)."""
        entry = self._entries.get(key)
        if entry is not None and self.clock() < entry[0]:
            self.hits += 1
            return entry[2]
        return None

    async def get_or_compute(self, key: Hashable, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        if self.ttl <= 0:
            return await compute()
        entry = self._entries.get(key)
        if entry is not None:
            now = self.clock()
            if now < entry[0]:
                self.hits += 1
                return entry[2]
            if now < entry[1]:
                self.stale += 1
                if key not in self._pending:
                    task = asyncio.create_task(self._compute(key, compute, self._claim(key)))
                    self._refreshing.add(task)
                    task.add_done_callback(self._refreshed)
                return entry[2]
        pending = self._pending.get(key)
        if pending is not None:
            self.hits += 1
            return await asyncio.shield(pending)
        self.misses += 1
        return await self._compute(key, compute, self._claim(key))

    def _claim(self, key: Hashable) -> asyncio.Future[bytes]:
        """Mark ``key`` as being computed (synchronously, so no second computation starts meanwhile)."""
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        return future

    def _refreshed(self, task: asyncio.Task) -> None:
        self._refreshing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("background refresh failed: %s", task.exception())

    async def _compute(self, key: Hashable, compute: Callable[[], Awaitable[bytes]],
                       future: asyncio.Future[bytes]) -> bytes:
        loop = asyncio.get_running_loop()
        if self._limit is None or self._limit[0] is not loop:  # tests and Mangum may run several loops
            self._limit = (loop, asyncio.Semaphore(self.concurrency))
        try:
            async with self._limit[1]:
                value = await compute()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # mark retrieved: waiters (if any) re-raise it themselves
            raise
        finally:
            self._pending.pop(key, None)
        future.set_result(value)
        done = self.clock()
        self._entries[key] = (done + self.ttl * (1 - self.jitter * random.random()), done + 2 * self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value


def rankings_key(objects: list[str], window: str, limit: int) -> tuple:
    return ("rankings", tuple(objects), window, limit)


def objects_key(window: str) -> tuple:
    return ("objects", window)
