"""A small cache of serialised answers: time to live, stale-while-revalidate, one computation per key.

/api/rankings and /api/objects are read far more often than the marts change (dbt refreshes them every
few minutes), so an answer may be served for ``ttl`` seconds: at 1,000 requests/s this turns ~1,000 queries
a second into one per distinct query string and TTL. Concurrent misses of one key share one computation.
After the TTL an entry is still served (for at most another TTL) while one request refreshes it in the
background, so no reader waits for the database once a key is warm. Answers are thus at most 2 x TTL old.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

log = logging.getLogger(__name__)


class TTLCache:
    def __init__(self, ttl: float, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.max_entries, self.clock = ttl, max_entries, clock
        self._entries: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()  # key -> (computed at, value)
        self._pending: dict[Hashable, asyncio.Future[bytes]] = {}
        self._refreshing: set[asyncio.Task] = set()
        self.hits = self.misses = self.stale = 0

    def clear(self) -> None:
        self._entries.clear()

    def fresh(self, key: Hashable) -> bytes | None:
        """The value if it is younger than the TTL (the hot path: no await, no computation)."""
        entry = self._entries.get(key)
        if entry is not None and self.clock() - entry[0] < self.ttl:
            self.hits += 1
            return entry[1]
        return None

    async def get_or_compute(self, key: Hashable, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        if self.ttl <= 0:
            return await compute()
        entry = self._entries.get(key)
        if entry is not None:
            age = self.clock() - entry[0]
            if age < self.ttl:
                self.hits += 1
                return entry[1]
            if age < 2 * self.ttl:
                self.stale += 1
                if key not in self._pending:
                    task = asyncio.create_task(self._compute(key, compute, self._claim(key)))
                    self._refreshing.add(task)
                    task.add_done_callback(self._refreshed)
                return entry[1]
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
        try:
            value = await compute()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # mark retrieved: waiters (if any) re-raise it themselves
            raise
        finally:
            self._pending.pop(key, None)
        future.set_result(value)
        self._entries[key] = (self.clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value


def rankings_key(objects: list[str], window: str, limit: int) -> tuple:
    return ("rankings", tuple(objects), window, limit)


def objects_key(window: str) -> tuple:
    return ("objects", window)
