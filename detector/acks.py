"""The detector's acknowledgement bookkeeping: a frame is acknowledged only after the broker confirmed the
detection message made from it; a detection the broker refused is held and published again, never nacked.

Why not nack on a failed send: a nacked frame comes back, and pulsar-lite (and a real broker after
``max_redeliveries``) sends it to the dead-letter topic although nothing is wrong with it. When the detections
topic or the broker is away for minutes, the detector instead keeps the refused detections, stops taking new
frames, and retries with a capped backoff until the broker takes them; then it acknowledges their frames.

Pure bookkeeping apart from two callables (send, acknowledge), so it is tested without a broker.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.backoff import Backoff


@dataclass
class Held:
    """A refused detection message and the frame it answers."""

    frame: Any  # the frame's broker message (acknowledged once the detection is confirmed)
    outgoing: Any  # the detection message (core.messages.OutgoingMessage)
    attempts: int = 1


class PendingSends:
    """Sends in flight, confirmations to apply and refused sends to retry.

    ``send(outgoing, callback)`` publishes asynchronously; ``callback(ok)`` runs on the client's thread, which
    only queues the outcome: :meth:`apply` (on the loop's thread) acknowledges or holds.
    """

    def __init__(self, send: Callable[[Any, Callable[[bool], None]], None], acknowledge: Callable[[Any], None], *,
                 retry_initial_s: float = 0.5, retry_max_s: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self._send = send
        self._acknowledge = acknowledge
        self._clock = clock
        self._outcomes: collections.deque[tuple[Any, Any, int, bool]] = collections.deque()
        self._pending = 0
        self._cond = threading.Condition()
        self.held: list[Held] = []
        self._backoff = Backoff(retry_initial_s, retry_max_s, jitter=0.0)  # one detector, nothing to spread
        self._delay = self._backoff.next_delay()
        self._next_retry = 0.0
        self.confirmed = 0
        self.failures = 0
        self.last_confirmed_at: float | None = None

    @property
    def pending(self) -> int:
        return self._pending

    @property
    def holding(self) -> bool:
        """True while some detection waits to be published again (the loop takes no new frames meanwhile)."""
        return bool(self.held)

    def publish(self, frame: Any, outgoing: Any, attempts: int = 1) -> None:
        with self._cond:
            self._pending += 1

        def done(ok: bool) -> None:
            self._outcomes.append((frame, outgoing, attempts, ok))
            if ok:
                self.last_confirmed_at = self._clock()
            with self._cond:
                self._pending -= 1
                self._cond.notify_all()

        self._send(outgoing, done)

    def apply(self) -> int:
        """Acknowledge the confirmed frames, hold the refused ones; returns how many were confirmed."""
        confirmed = 0
        while self._outcomes:
            frame, outgoing, attempts, ok = self._outcomes.popleft()
            if ok:
                self._acknowledge(frame)
                confirmed += 1
            else:
                self.failures += 1
                self.held.append(Held(frame, outgoing, attempts))
                self._next_retry = max(self._next_retry, self._clock() + self._delay)
        if confirmed:
            self.confirmed += confirmed
            if not self.held:
                self._backoff.reset()
                self._delay = self._backoff.next_delay()
        return confirmed

    def retry_due(self) -> float:
        """Seconds until held sends may go again (0 = now)."""
        return max(self._next_retry - self._clock(), 0.0) if self.held else 0.0

    def retry(self) -> int:
        """Publish every held detection again (in the order they were refused); back off for the next round."""
        if not self.held or self.retry_due() > 0:
            return 0
        again, self.held = self.held, []
        self._delay = self._backoff.next_delay()
        for held in again:
            self.publish(held.frame, held.outgoing, held.attempts + 1)
        return len(again)

    def wait(self, timeout_s: float) -> bool:
        """Wait until no send is in flight (True) or ``timeout_s`` passed (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout=timeout_s)
