"""An in-memory broker log and store that behave like Pulsar and Postgres where it matters for exactly-once:

- the store commits a :class:`Flush` atomically (UPSERT semantics, idempotent inserts) or not at all;
- the log redelivers, after a crash, every delivered message not acknowledged (in log order), plus, when asked,
  acknowledged neighbours (a producer batch comes back whole when part of it was not acknowledged).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from aggregator.pipeline import Aggregator, Loaded, LoadedClosed, StoreUnavailable
from aggregator.ranges import IntRanges
from aggregator.rows import Flush, OpenWindow, SessionKey
from aggregator.snapshot import session_keys
from aggregator.windows import WindowMachine
from core.messages import Detection, DetectionMessage, encode_detections

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
T0_MS = round(T0.timestamp() * 1000)
WINDOW_S, LATENESS_S, IDLE_S = 10, 3, 8


class SimulatedCrash(Exception):
    """The process dies here (raised from the store or the retry sleep)."""


@dataclass
class MemoryStore:
    """The five aggregator tables as dicts, written like the Postgres store writes them."""

    registered: set[int]
    frame_windows: dict = field(default_factory=dict)
    object_stats: dict = field(default_factory=dict)
    late: dict = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)
    tracks: dict = field(default_factory=dict)
    open: dict = field(default_factory=dict)  # (stream, window start) -> (version, state as JSON text)
    closed: dict = field(default_factory=dict)  # (stream, window start) -> written window's state as JSON text
    outage: int = 0  # the next N calls fail as if the server were down
    write_outage: bool = False  # writes fail (loads work) until the process dies in the retry sleep
    die_in_outage: bool = False  # the process is killed while it waits for the server
    writes: int = 0

    def _check(self) -> None:
        if self.outage:
            self.outage -= 1
            raise StoreUnavailable("simulated outage")

    def streams_with_open_windows(self) -> set[int]:
        self._check()
        return {key[0] for key in self.open}

    def load(self, stream_ids: set[int], sessions: set[SessionKey]) -> Loaded:
        self._check()
        loaded = Loaded()
        for stream_id in stream_ids & self.registered:
            ends = [row.window_end for key, row in self.frame_windows.items() if key[0] == stream_id]
            loaded.streams[stream_id] = max(ends, default=None)
            loaded.open[stream_id] = [OpenWindow(sid, start, version, json.loads(state))
                                      for (sid, start), (version, state) in self.open.items() if sid == stream_id]
        for key in sessions | session_keys(w for windows in loaded.open.values() for w in windows):
            if key in self.sessions:
                loaded.sessions[key] = IntRanges(self.sessions[key])
            loaded.tracks[key] = [(k[3], k[4], start) for k, start in self.tracks.items() if k[:3] == key]
        return loaded

    def load_closed(self, windows: set[tuple[int, datetime]]) -> LoadedClosed:
        self._check()
        loaded = LoadedClosed()
        for key in windows:
            if key in self.closed:
                loaded.states[key] = json.loads(self.closed[key])
            elif any(k[:2] == key for k in self.frame_windows):
                loaded.stateless.add(key)
        return loaded

    def write(self, flush: Flush) -> set[int]:
        if self.write_outage:
            raise StoreUnavailable("simulated outage (writes)")
        self._check()
        lost = {sid for sid in flush.streams() if sid not in self.registered}
        # A version that does not match: another writer took this window over, our view of it is stale.
        for stream_id, start, version in flush.discard:
            if self.open.get((stream_id, start), (None,))[0] != version:
                lost.add(stream_id)
        for w in flush.snapshots:
            if self.open.get((w.stream_id, w.window_start), (0,))[0] != w.version - 1:
                lost.add(w.stream_id)
        if lost:
            flush = flush.without(lost)
        windows = {(r.stream_id, r.window_start, r.model) for r in flush.frame_windows}
        fresh = {(r.stream_id, r.window_start, r.model, r.object_class) for r in flush.object_stats}
        for key in [k for k in self.object_stats if k[:3] in windows and k not in fresh]:
            del self.object_stats[key]  # the window's rows are replaced as a whole
        for row in flush.frame_windows:
            self.frame_windows[(row.stream_id, row.window_start, row.model)] = row
        for row in flush.object_stats:
            self.object_stats[(row.stream_id, row.window_start, row.model, row.object_class)] = row
        for row in flush.late:
            self.late.setdefault((row.stream_id, row.session_id, row.seq), row)
        for key, seqs in flush.sessions.items():
            self.sessions[key] = seqs.ranges()
        for row in flush.tracks:
            self.tracks[(row.stream_id, row.session_id, row.model, row.object_class, row.track_id)] = row.window_start
        for move in flush.moves:
            key = (move.stream_id, move.window_start, move.model, move.object_class)
            self.object_stats[key] = replace(self.object_stats[key],
                                             unique_objects=self.object_stats[key].unique_objects - 1)
        for w in flush.closed:
            self.closed[(w.stream_id, w.window_start)] = json.dumps(w.state, sort_keys=True)
        for stream_id, start, _ in flush.discard:
            del self.open[(stream_id, start)]
        for w in flush.snapshots:
            self.open[(w.stream_id, w.window_start)] = (w.version, json.dumps(w.state))
        self.writes += 1
        return lost

    def tables(self) -> dict:
        return {
            "frame_windows": dict(self.frame_windows),
            "object_stats": dict(self.object_stats),
            "late_detections": dict(self.late),
            "sessions": dict(self.sessions),
            "tracks": dict(self.tracks),
            "open": dict(self.open),
            "closed": dict(self.closed),
        }


@dataclass
class Log:
    """A topic: messages (payload, publish ms) in order, delivery position, acknowledgements."""

    entries: list[tuple[bytes, int]]
    acked: set[int] = field(default_factory=set)
    dead: dict[int, str] = field(default_factory=dict)
    queue: deque = field(default_factory=deque)  # indexes to deliver next (redeliveries)
    delivered_upto: int = 0
    published: int | None = None  # messages published so far (all when None)

    @property
    def frontier(self) -> int:
        return len(self.entries) if self.published is None else min(self.published, len(self.entries))

    def take(self, count: int) -> list[tuple[bytes, int, int]]:
        batch = []
        while len(batch) < count and (self.queue or self.delivered_upto < self.frontier):
            if self.queue:
                index = self.queue.popleft()
            else:
                index = self.delivered_upto
                self.delivered_upto += 1
            payload, publish_ms = self.entries[index]
            batch.append((payload, publish_ms, index))
        return batch

    @property
    def caught_up(self) -> bool:
        return not self.queue and self.delivered_upto == self.frontier

    def crash(self, redeliver_acked: frozenset[int] = frozenset()) -> None:
        """The consumer died: what it received and did not acknowledge comes back, in log order."""
        back = {i for i in range(self.delivered_upto) if i not in self.acked} | {
            i for i in redeliver_acked if i < self.delivered_upto
        }
        self.queue = deque(sorted(back))

    # Acknowledger
    def acknowledge(self, handle: int) -> None:
        self.acked.add(handle)

    def dead_letter(self, handle: int, reason: str) -> None:
        self.dead[handle] = reason


def new_aggregator(store: MemoryStore, log: Log) -> Aggregator:
    def sleep(_seconds: float) -> None:
        if store.die_in_outage:
            store.die_in_outage = False
            raise SimulatedCrash

    aggregator = Aggregator(WindowMachine(WINDOW_S, LATENESS_S, IDLE_S), store, log, sleep=sleep)
    aggregator.start()
    return aggregator


def message(stream_id: int, session: str, seq: int, capture_ms: int, objects: list[tuple[str, int | None]],
            model: str = "m1") -> DetectionMessage:
    """A detection message at ``capture_ms`` after T0 with (class name, track id) objects."""
    class_ids = {"person": 0, "car": 2, "traffic light": 9}
    return DetectionMessage(
        stream_id=stream_id, session_id=session, seq=seq, capture_time=T0 + timedelta(milliseconds=capture_ms),
        model=model, weights_hash="h", image_width=64, image_height=48, inference_ms=1.0,
        detections=[Detection(class_id=class_ids[name], class_name=name, confidence=0.5, box=(0.1, 0.1, 0.2, 0.2),
                              track_id=track) for name, track in objects],
    )


def payload(msg: DetectionMessage) -> bytes:
    return encode_detections(msg).payload
