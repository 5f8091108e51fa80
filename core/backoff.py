"""Exponential backoff, the one helper for every retry loop (the reader's reconnects, the aggregator's writes)."""

from __future__ import annotations

import random as _random


class Backoff:
    """Exponential backoff with jitter: ``initial * 2**n`` capped at ``maximum``, each delay shortened by up
    to ``jitter`` of itself so that readers of many streams that failed together do not retry together."""

    def __init__(self, initial: float, maximum: float, jitter: float = 0.5, random: _random.Random | None = None):
        self.initial, self.maximum, self.jitter = initial, max(initial, maximum), min(max(jitter, 0.0), 1.0)
        self._random = random or _random.Random()
        self.failures = 0

    def next_delay(self) -> float:
        base = min(self.maximum, self.initial * (2 ** min(self.failures, 30)))
        self.failures += 1
        return base * (1.0 - self.jitter * self._random.random())

    def reset(self) -> None:
        self.failures = 0
