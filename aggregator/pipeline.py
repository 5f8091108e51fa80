"""The aggregator's loop body, apart from where messages come from and where rows go.

:class:`Aggregator` decodes a batch, loads the persisted state the window machine lacks, feeds the machine,
writes what it closed and snapshots what stays open, in one transaction (retrying with backoff while the
store is unavailable, holding every acknowledgement meanwhile), and only then acknowledges the batch. The
Pulsar worker and the property tests drive the same class, with a real or an in-memory store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aggregator.ranges import IntRanges
from aggregator.rows import Flush, OpenWindow, SessionKey
from aggregator.snapshot import session_keys
from aggregator.windows import WindowMachine
from core.backoff import Backoff
from core.messages import DetectionMessage, MessageError, decode_detections

log = logging.getLogger(__name__)


class StoreUnavailable(Exception):
    """The store cannot be reached now; the same call is retried later."""


@dataclass
class Loaded:
    """Persisted state: registered streams (with their ``closed_until`` and open windows), and the sequences and
    track ids counted per session (for the sessions asked for and those of the open windows)."""

    streams: dict[int, datetime | None] = field(default_factory=dict)
    open: dict[int, list[OpenWindow]] = field(default_factory=dict)
    sessions: dict[SessionKey, IntRanges] = field(default_factory=dict)
    tracks: dict[SessionKey, list[tuple[str, int, datetime]]] = field(default_factory=dict)  # class, id, window


@dataclass
class LoadedClosed:
    """Written windows asked for: their states, and those written without a state (before ``aggregator_closed``);
    a window in neither was never written."""

    states: dict[tuple[int, datetime], dict] = field(default_factory=dict)
    stateless: set[tuple[int, datetime]] = field(default_factory=set)


class Store(Protocol):
    def streams_with_open_windows(self) -> set[int]: ...

    def load(self, stream_ids: set[int], sessions: set[SessionKey]) -> Loaded: ...

    def load_closed(self, windows: set[tuple[int, datetime]]) -> LoadedClosed: ...

    def write(self, flush: Flush) -> set[int]:
        """Commit ``flush`` atomically. Returns the streams whose rows had to be left out: removed from the
        registry, or whose open windows another process has taken over (a snapshot version says so)."""
        ...


class Acknowledger(Protocol):
    def acknowledge(self, handle: Any) -> None: ...

    def dead_letter(self, handle: Any, reason: str) -> None: ...


class Observer:
    """Hooks for metrics; the default does nothing."""

    def received(self, count: int) -> None: ...

    def outcomes(self, counted: int, duplicates: int, late: int, dead_letters: int) -> None: ...

    def stream_lost(self) -> None: ...

    def flushed(self, seconds: float, windows: int) -> None: ...

    def state(self, open_windows: int, open_messages: int) -> None: ...

    def retry(self) -> None: ...


Batch = Sequence[tuple[bytes, int, Any]]  # (payload, arrival time in ms on the aggregator's monotonic clock, handle)


class Aggregator:
    """Decode, load state, count, write, then acknowledge; see the module doc."""

    def __init__(
        self,
        machine: WindowMachine,
        store: Store,
        acks: Acknowledger,
        *,
        observer: Observer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 5.0,
    ):
        self.machine = machine
        self.store = store
        self.acks = acks
        self.observer = observer or Observer()
        self._sleep = sleep
        self._backoff = (backoff_initial_s, backoff_max_s)
        self.dead_letters = 0
        self.streams_lost = 0
        self.retries = 0
        self._seen = (0, 0, 0, 0)

    def start(self, now_ms: int | None = None) -> int:
        """Rebuild every persisted open window (a stream may never send again: its windows must still close on
        idleness or at ``--idle-exit``; their idle timeout starts at ``now_ms``, the arrival clock's reading).
        Returns the number of streams restored."""
        if now_ms is not None:
            self.machine.tick(now_ms)
        streams = self.retrying(self.store.streams_with_open_windows)
        self._restore(streams, set())
        return len(streams)

    def handle_batch(self, batch: Batch) -> None:
        """Process one received batch and write/acknowledge whatever it completed."""
        self.observer.received(len(batch))
        decoded: list[tuple[DetectionMessage, int, Any]] = []
        for payload, publish_ms, handle in batch:
            try:
                decoded.append((decode_detections(payload), publish_ms, handle))
            except MessageError as bad:
                self._dead_letter(handle, str(bad))
        if decoded:  # restored open windows' idle timeout starts at this arrival, not at the snapshot's
            self.machine.tick(decoded[0][1])
        self._restore(*self.machine.unknown(message for message, _, _ in decoded))
        needed = self.machine.closed_needed(message for message, _, _ in decoded)
        if needed:
            closed = self.retrying(lambda: self.store.load_closed(needed))
            # A written window may hold sessions this process has not seen: their tracks decide its uniques.
            others = session_keys(OpenWindow(sid, start, 0, state) for (sid, start), state in closed.states.items())
            self._restore(set(), self.machine.unknown_sessions(others))
            for stream_id, start in needed:
                self.machine.restore_closed(stream_id, start, closed.states.get((stream_id, start)),
                                            (stream_id, start) in closed.stateless)
        add = self.machine.add
        for message, publish_ms, handle in decoded:
            add(message, publish_ms, handle)
        self.flush()

    def _restore(self, streams: set[int], sessions: set[SessionKey]) -> None:
        if streams or sessions:
            loaded = self.retrying(lambda: self.store.load(streams, sessions))
            for key in sessions | session_keys(w for windows in loaded.open.values() for w in windows):
                self.machine.restore_session(key, loaded.sessions.get(key, IntRanges()), loaded.tracks.get(key, ()))
            for stream_id in streams:
                self.machine.restore_stream(
                    stream_id, registered=stream_id in loaded.streams, closed_until=loaded.streams.get(stream_id),
                    open_windows=loaded.open.get(stream_id, ()),
                )

    def idle(self, now_ms: int) -> None:
        """Nothing arrived: let the arrival clock (monotonic, ms) close idle streams' windows."""
        self.machine.tick(now_ms)
        self.flush()

    def finish(self) -> None:
        """The input is finished (``--idle-exit``): close and write every open window."""
        self.machine.close_all()
        self.flush()

    def evict(self) -> int:
        return self.machine.evict()

    def flush(self) -> None:
        flush = self.machine.take()
        if flush.has_rows:
            started = time.perf_counter()
            lost = self.retrying(lambda: self.store.write(flush))
            self.observer.flushed(time.perf_counter() - started, len({(r.stream_id, r.window_start)
                                                                      for r in flush.frame_windows}))
            for stream_id in lost:
                log.warning("stream %s was removed or is handled by another process: forgetting it", stream_id)
                self.machine.forget_stream(stream_id)
                self.streams_lost += 1
                self.observer.stream_lost()
        for handle, reason in flush.rejected:
            self._dead_letter(handle, reason)
        acknowledge = self.acks.acknowledge
        for handle in flush.ack:
            acknowledge(handle)
        self._report()

    # ---------------------------------------------------------------------------------------- internals

    def _dead_letter(self, handle: Any, reason: str) -> None:
        self.acks.dead_letter(handle, reason)
        self.acks.acknowledge(handle)
        self.dead_letters += 1

    def retrying(self, call: Callable[[], Any]) -> Any:
        backoff = Backoff(*self._backoff, jitter=0.0)
        while True:
            try:
                return call()
            except StoreUnavailable as error:
                self.retries += 1
                self.observer.retry()
                delay = backoff.next_delay()
                log.warning("store unavailable (%s); retrying in %.1f s, acknowledgements held", error, delay)
                self._sleep(delay)

    def _report(self) -> None:
        c = self.machine.counters
        now = (c.counted, c.duplicates, c.late, self.dead_letters)
        deltas = [a - b for a, b in zip(now, self._seen, strict=True)]
        self._seen = now
        if any(deltas):
            self.observer.outcomes(*deltas)
        self.observer.state(self.machine.open_windows, self.machine.open_messages)
