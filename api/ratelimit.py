"""Token buckets per key (pure logic, injected clock): the write rate limit per token and per address.

A maintained library was considered first: ``limits`` is not installed here and ``pyrate-limiter`` (present as
a dependency) changed its API in each of its last major versions and brings async/backends this in-process
check does not need. One bucket is a dozen lines; memory is bounded by evicting the least recently used keys
(a full bucket and a forgotten one behave the same, so eviction never makes a client wait longer).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """``capacity`` requests at once, refilled at ``rate`` per second, per key."""

    def __init__(self, capacity: float, rate: float, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        if capacity < 1 or rate <= 0:
            raise ValueError("capacity must be at least 1 and rate above 0")
        self.capacity, self.rate, self.max_keys, self.clock = float(capacity), float(rate), max_keys, clock
        self._buckets: OrderedDict[Hashable, _Bucket] = OrderedDict()

    def take(self, key: Hashable) -> float:
        """Spend one token of ``key``: 0.0 when allowed, else the seconds until one is available."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(self.capacity, now)
            self._buckets[key] = bucket
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets.move_to_end(key)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def refund(self, key: Hashable) -> None:
        """Give back a token taken for a request another limit refused (one refusal costs one key only)."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(self.capacity, bucket.tokens + 1)


def retry_after(wait_s: float) -> str:
    """A Retry-After header value (whole seconds, at least 1)."""
    return str(max(1, math.ceil(wait_s)))
