"""A small time-to-live cache of serialised answers, with one computation in flight per key.

/api/rankings and /api/objects are read far more often than the marts change (dbt refreshes them every
few minutes), so an answer may be served for ``ttl`` seconds: at 1,000 requests/s this turns ~1,000 queries
a second into one per key and TTL. Concurrent misses of one key wait for the same computation.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable


class TTLCache:
    def __init__(self, ttl: float, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.max_entries, self.clock = ttl, max_entries, clock
        self._entries: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._pending: dict[Hashable, asyncio.Future[bytes]] = {}
        self.hits = self.misses = 0

    def clear(self) -> None:
        self._entries.clear()

    async def get_or_compute(self, key: Hashable, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        if self.ttl <= 0:
            return await compute()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self.clock():
            self.hits += 1
            return entry[1]
        pending = self._pending.get(key)
        if pending is not None:
            self.hits += 1
            return await asyncio.shield(pending)
        self.misses += 1
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await compute()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # mark retrieved: waiters (if any) re-raise it themselves
            raise
        finally:
            self._pending.pop(key, None)
        future.set_result(value)
        self._entries[key] = (self.clock() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value
