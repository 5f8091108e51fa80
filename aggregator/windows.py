"""The aggregator's window state machine: pure logic, no Pulsar, no Postgres, no clock of its own.

Input: decoded detection messages, each with its arrival time (ms on the aggregator's own monotonic clock) and an
opaque handle (the Pulsar message, to acknowledge later); the clock alone through :meth:`WindowMachine.tick`,
which the worker calls when it has caught up with the topic. Output (:meth:`WindowMachine.take`): the rows of closed
windows, late detections, snapshots of the open windows the batch touched, the per-session state to persist,
and the handles to acknowledge once all of that is committed in one transaction.

Why a crash changes nothing (the exactly-once effect of docs/architecture.md, step 4):

- A message is acknowledged only after its effect is committed: in the rows of its window if the window closed,
  else in the snapshot of its open window (``aggregator_open``). After a crash the snapshots rebuild the open
  windows exactly as they were at the last commit, and the messages of the uncommitted batch come back.
- What outlives a window is committed with its rows: the sequences it counted (so a message redelivered after
  its window was written is known as a duplicate, not taken for a late one), the track ids it counted as
  "first seen", and its end (``closed_until`` = ``max(window_end)`` of ``frame_windows``).
- Windows close on the stream's event time (watermark) or when the stream is idle. Idleness is measured on the
  aggregator's own monotonic clock of arrival (never a producer's wall clock): a stream's deadline is the latest
  arrival among the messages of its open windows plus the idle timeout. A replay may close a window at another
  point than the first run did; that changes no row, because of the next point.
- Late data still counts: a message for a window already written (and not a duplicate, by the counted sequences)
  re-opens it. The written window's full state is kept in ``aggregator_closed``; the pipeline loads it
  (:meth:`WindowMachine.closed_needed`), the message is added, and the window's rows are rewritten in the same
  transaction as the sequence it counted. Only a message older than the horizon (default 24 h, measured against
  the stream's watermark) goes to ``late_detections``.
- "First seen" follows event time whatever the order of arrival: a track id is counted in the earliest window
  that holds it; a late window that holds an id counted in a later window takes it over (the later window's
  ``unique_objects`` goes down by one). So any order of arrival within the horizon gives the rows of an in-order
  run (tests/aggregator/test_property.py).
- Snapshots carry a version: a process whose version no longer matches (another one took the stream over in a
  Key_Shared rebalance) has a stale view, and its rows for that stream are refused.

Acknowledging per batch instead of per closed window also keeps the broker's unacknowledged backlog to one batch:
pulsar-lite 0.2.0 redelivers a dead consumer's unacknowledged Key_Shared messages one per key, each only after the
previous one was acknowledged, so messages held for a whole window would not come back in time.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aggregator import snapshot
from aggregator.accumulators import NEVER, ClassAcc, ModelAcc, WindowAcc
from aggregator.ranges import IntRanges
from aggregator.rows import (
    ClosedWindow,
    Flush,
    FrameWindowRow,
    LateRow,
    ObjectStatRow,
    OpenWindow,
    SessionKey,
    TrackRow,
    UniqueMove,
)
from core.messages import DetectionMessage, from_millis, to_millis

MAX_SESSION_ID = 36  # late_detections.session_id is VARCHAR(36) (a UUID); longer ids cannot be stored
DUE_NEVER = 2**62
DEFAULT_HORIZON_S = 24 * 3600.0


@dataclass(slots=True)
class Counters:
    """Running totals (the worker turns them into Prometheus metrics)."""

    counted: int = 0
    duplicates: int = 0
    late: int = 0
    rejected: int = 0
    windows_closed: int = 0
    idle_closes: int = 0
    reopened: int = 0  # late messages counted into a window already written



class _Stream:
    __slots__ = ("closed", "closed_until", "due_at", "last_publish", "loaded_below", "queued", "registered",
                 "watermark", "windows")

    def __init__(self, registered: bool, closed_until: int | None):
        self.registered = registered
        self.closed_until = closed_until  # every window starting before this is closed (written)
        # Written windows' states in memory until the next take(): closed in this batch, or loaded for late data
        # (None: written before their state was kept, so late data for it can only be put aside).
        self.closed: dict[int, WindowAcc | None] = {}
        self.loaded_below = closed_until  # a written window starting before this must be loaded to re-open it
        self.watermark = closed_until if closed_until is not None else NEVER
        self.windows: dict[int, WindowAcc] = {}
        self.last_publish = NEVER  # latest publish time among messages in open windows
        self.queued: int | None = None  # earliest idle deadline queued in the heap for this stream
        self.due_at = DUE_NEVER  # watermark at which the earliest open window closes (its end + lateness)


class _Session:
    __slots__ = ("closed", "last_active", "open", "tracks")

    def __init__(self, closed: IntRanges, tracks: dict[tuple[str, int], int]):
        self.closed = closed  # sequences counted in closed windows (persisted)
        self.tracks = tracks  # (class, track id) -> start (ms) of the written window that counts it (persisted)
        self.open: set[int] = set()  # sequences in open windows (recomputed on replay)
        self.last_active = NEVER


class WindowMachine:
    """Per-stream event-time windows with late data, duplicates and first-seen track ids; see the module doc.

    Before :meth:`add` sees a stream or a (stream, session, model) for the first time, the caller loads its
    persisted state: :meth:`unknown` says what is missing, :meth:`restore_session` and then
    :meth:`restore_stream` (with the stream's open windows) put it in.
    """

    def __init__(self, window_seconds: float, allowed_lateness_seconds: float, idle_timeout_s: float,
                 horizon_s: float = DEFAULT_HORIZON_S):
        if window_seconds <= 0 or allowed_lateness_seconds < 0 or idle_timeout_s <= 0 or horizon_s < 0:
            raise ValueError("window and idle timeout must be positive, lateness and horizon not negative")
        self.window_ms = round(window_seconds * 1000)
        self.lateness_ms = round(allowed_lateness_seconds * 1000)
        self.idle_ms = round(idle_timeout_s * 1000)
        self.horizon_ms = round(horizon_s * 1000)
        self.clock_ms = NEVER
        self.counters = Counters()
        self._streams: dict[int, _Stream] = {}
        self._sessions: dict[SessionKey, _Session] = {}
        self._deadlines: list[tuple[int, int]] = []  # heap of (idle deadline, stream id); stale entries skipped
        self._out = Flush()
        self._dirty: set[SessionKey] = set()
        self._touched: list[tuple[int, WindowAcc]] = []  # open windows changed since the last take()
        self._open_windows = 0
        self._emit: dict[tuple[int, int], WindowAcc] = {}  # windows closed or re-opened since the last take()
        self._cached: set[int] = set()  # streams holding written windows' states until the next take()
        self._unclocked: list[int] = []  # streams restored before the clock was read

    # ------------------------------------------------------------------------------------ state loading

    def unknown(self, messages: Iterable[DetectionMessage]) -> tuple[set[int], set[SessionKey]]:
        """Streams and sessions among ``messages`` whose persisted state must be restored first."""
        streams: set[int] = set()
        sessions: set[SessionKey] = set()
        for message in messages:
            if message.stream_id not in self._streams:
                streams.add(message.stream_id)
            key = (message.stream_id, message.session_id, message.model)
            if key not in self._sessions:
                sessions.add(key)
        return streams, sessions

    def unknown_sessions(self, keys: Iterable[SessionKey]) -> set[SessionKey]:
        return {key for key in keys if key not in self._sessions}

    def restore_session(self, key: SessionKey, seqs: IntRanges,
                        tracks: Iterable[tuple[str, int, datetime]]) -> None:
        """Put back a session's counted sequences and its counted tracks: (class, track id, window start)."""
        if key not in self._sessions:
            self._sessions[key] = _Session(seqs, {(c, t): to_millis(start) for c, t, start in tracks})

    def closed_needed(self, messages: Iterable[DetectionMessage]) -> set[tuple[int, datetime]]:
        """(stream, window start) of written windows that late ``messages`` re-open and whose state must be
        loaded first (:meth:`restore_closed`); the streams must be restored already."""
        needed: set[tuple[int, datetime]] = set()
        for message in messages:
            stream = self._streams[message.stream_id]
            if stream.loaded_below is None:
                continue
            capture_ms = to_millis(message.capture_time)
            if stream.watermark - capture_ms > self.horizon_ms:
                continue  # beyond the horizon: put aside, whatever was written
            start = capture_ms - capture_ms % self.window_ms
            if start < stream.loaded_below and start not in stream.closed:
                needed.add((message.stream_id, from_millis(start)))
        return needed

    def restore_closed(self, stream_id: int, window_start: datetime, state: dict | None, written: bool) -> None:
        """Put back a written window's state (``state`` None and ``written``: written before states were kept;
        neither: no row was ever written for that window)."""
        start = to_millis(window_start)
        stream = self._streams[stream_id]
        if start in stream.closed:
            return
        if state is not None:
            stream.closed[start] = snapshot.decode(start, 0, state)
        else:
            stream.closed[start] = None if written else WindowAcc(start)
        self._cached.add(stream_id)

    def restore_stream(self, stream_id: int, *, registered: bool, closed_until: datetime | None,
                       open_windows: Iterable[OpenWindow] = ()) -> None:
        """Put back a stream: its ``closed_until`` and its open windows (whose sessions must be restored first)."""
        if stream_id in self._streams:
            return
        stream = self._streams[stream_id] = _Stream(registered, None if closed_until is None else to_millis(
            closed_until))
        for stored in open_windows:
            window = snapshot.decode(to_millis(stored.window_start), stored.version, stored.state)
            stream.windows[window.start] = window
            self._open_windows += 1
            for model_name, model in window.models.items():
                for session_id, seqs in model.seqs.items():
                    self._sessions[(stream_id, session_id, model_name)].open.update(seqs)
                if model.last_ms > stream.watermark:
                    stream.watermark = model.last_ms
            # The snapshot's arrival times are another process's clock: the idle timeout starts again now.
            window.last_publish = self.clock_ms
            if window.last_publish > stream.last_publish:
                stream.last_publish = window.last_publish
        if stream.windows:
            stream.due_at = min(stream.windows) + self.window_ms + self.lateness_ms
            if self.clock_ms == NEVER:
                self._unclocked.append(stream_id)  # the idle timeout starts at the clock's first reading
            else:
                self._queue(stream_id, stream)

    # ------------------------------------------------------------------------------------------- input

    def add(self, message: DetectionMessage, publish_ms: int, handle: Any) -> str:
        """Take one message; returns its fate: counted, duplicate, late or rejected. Its handle is acknowledged
        (rejected: dead-lettered) after the next :meth:`take` is committed. (The hot path: kept flat.)"""
        if publish_ms > self.clock_ms:
            self._advance(publish_ms)
        out = self._out
        stream_id = message.stream_id
        stream = self._streams[stream_id]
        if not stream.registered:
            return self._reject(handle, f"stream {stream_id} is not registered")
        session_id = message.session_id
        if len(session_id) > MAX_SESSION_ID:
            return self._reject(handle, f"session id longer than {MAX_SESSION_ID} characters")
        out.ack.append(handle)
        session = self._sessions[(stream_id, session_id, message.model)]
        seq = message.seq
        if seq in session.open or seq in session.closed:
            self.counters.duplicates += 1
            return "duplicate"
        capture_ms = to_millis(message.capture_time)
        start = capture_ms - capture_ms % self.window_ms
        closes_at = start + self.window_ms + self.lateness_ms
        written = stream.closed_until is not None and start < stream.closed_until
        if written or closes_at <= stream.watermark:
            if stream.watermark - capture_ms > self.horizon_ms:
                return self._late(stream_id, session_id, seq, message)
            if written:
                return self._reopen(stream_id, stream, session, message, capture_ms, start, publish_ms)

        window = stream.windows.get(start)
        if window is None:
            window = stream.windows[start] = WindowAcc(start)
            self._open_windows += 1
            if closes_at < stream.due_at:
                stream.due_at = closes_at
        if not window.dirty:
            window.dirty = True
            self._touched.append((stream_id, window))
        self._count(window, message, capture_ms, seq)
        session.open.add(seq)
        session.last_active = publish_ms
        if publish_ms > window.last_publish:
            window.last_publish = publish_ms
        if publish_ms > stream.last_publish:
            stream.last_publish = publish_ms
            if stream.queued is None:
                self._queue(stream_id, stream)
        self.counters.counted += 1
        if capture_ms > stream.watermark:
            stream.watermark = capture_ms
            if capture_ms >= stream.due_at:
                self._close_due(stream_id, stream)
        elif closes_at <= stream.watermark:  # a window due already, never written: it closes at once
            self._close_due(stream_id, stream)
        return "counted"

    def tick(self, now_ms: int) -> None:
        """The wall clock, when the consumer has caught up: close the windows of idle streams."""
        self._advance(now_ms)

    def close_all(self) -> None:
        """Close every open window (the input is finished: ``--idle-exit``)."""
        for stream_id, stream in self._streams.items():
            self._close_stream(stream_id, stream, len(stream.windows))

    def take(self) -> Flush:
        """Hand over what to commit; the caller commits it, then acknowledges ``ack``."""
        out = self._out
        for key in sorted(self._emit):  # per stream in event-time order: "first seen" goes to the earliest
            self._write_rows(key[0], self._emit[key], out)
        self._emit = {}
        for stream_id in self._cached:
            cached = self._streams.get(stream_id)
            if cached is not None:
                cached.closed = {}
                cached.loaded_below = cached.closed_until  # committed with this flush: loaded from now on
        self._cached = set()
        out.sessions = {key: self._sessions[key].closed.copy() for key in self._dirty}
        for stream_id, window in self._touched:
            if window.dirty:  # still open
                window.dirty = False
                window.version += 1
                out.snapshots.append(OpenWindow(stream_id, from_millis(window.start), window.version,
                                                snapshot.encode(window)))
        self._touched = []
        self._dirty = set()
        self._out = Flush()
        return out

    def forget_stream(self, stream_id: int) -> None:
        """Drop a stream from memory (it was removed, or another process took it over): its next message
        reloads whatever Postgres says."""
        stream = self._streams.pop(stream_id, None)
        if stream is not None:
            self._open_windows -= len(stream.windows)
            for window in stream.windows.values():
                window.dirty = False
        for key in [key for key in self._sessions if key[0] == stream_id]:
            del self._sessions[key]
        self._dirty = {key for key in self._dirty if key[0] != stream_id}
        self._emit = {key: w for key, w in self._emit.items() if key[0] != stream_id}
        self._cached.discard(stream_id)

    def evict(self) -> int:
        """Forget idle sessions and streams with nothing open (their state is persisted); returns how many.

        Call only when everything taken has been committed: a forgotten state is reloaded from Postgres."""
        if self._dirty or self._out or self._touched or self._emit:
            raise RuntimeError("evict() before the pending output was taken and written")
        horizon = self.clock_ms - self.idle_ms
        gone = [key for key, s in self._sessions.items() if not s.open and s.last_active <= horizon]
        for key in gone:
            del self._sessions[key]
        quiet = [sid for sid, s in self._streams.items() if not s.windows]
        for stream_id in quiet:
            del self._streams[stream_id]
        return len(gone) + len(quiet)

    # --------------------------------------------------------------------------------------- inspection

    @property
    def open_windows(self) -> int:
        return self._open_windows

    @property
    def open_messages(self) -> int:
        """Messages counted in open windows."""
        return sum(w.messages for s in self._streams.values() for w in s.windows.values())

    def known(self) -> tuple[int, int]:
        """(streams, sessions) in memory."""
        return len(self._streams), len(self._sessions)

    # ---------------------------------------------------------------------------------------- internals

    @staticmethod
    def _count(window: WindowAcc, message: DetectionMessage, capture_ms: int, seq: int) -> None:
        """Add one message's frame and detections to a window's running totals."""
        session_id = message.session_id
        window.messages += 1
        model = window.models.get(message.model)
        if model is None:
            model = window.models[message.model] = ModelAcc()
        model.frames += 1
        if capture_ms < model.first_ms:
            model.first_ms = capture_ms
        if capture_ms > model.last_ms:
            model.last_ms = capture_ms
        seqs = model.seqs.get(session_id)
        if seqs is None:
            model.seqs[session_id] = [seq]
        else:
            seqs.append(seq)
        detections = message.detections
        if detections:
            classes = model.classes
            per_frame: dict[ClassAcc, int] = {}
            for detection in detections:
                acc = classes.get(detection.class_name)
                if acc is None:
                    acc = classes[detection.class_name] = ClassAcc(detection.class_id)
                elif detection.class_id < acc.class_id:
                    acc.class_id = detection.class_id
                if detection.track_id is not None:
                    acc.tracks.add((session_id, detection.track_id))
                per_frame[acc] = per_frame.get(acc, 0) + 1
            for acc, count in per_frame.items():
                acc.detections += count
                acc.frames_present += 1
                if count > acc.max:
                    acc.max = count
                if count < acc.min_present:
                    acc.min_present = count

    def _late(self, stream_id: int, session_id: str, seq: int, message: DetectionMessage) -> str:
        self._out.late.append(LateRow(stream_id, session_id, seq, message.capture_time))
        self.counters.late += 1
        return "late"

    def _reopen(self, stream_id: int, stream: _Stream, session: _Session, message: DetectionMessage,
                capture_ms: int, start: int, publish_ms: int) -> str:
        """Count a late message into its written window, whose rows the next take() rewrites."""
        if start in stream.closed:
            window = stream.closed[start]
        elif stream.loaded_below is not None and start < stream.loaded_below:
            raise KeyError(f"written window {start} of stream {stream_id} not loaded (closed_needed)")
        else:
            window = stream.closed[start] = WindowAcc(start)  # never written: nothing was in it
            self._cached.add(stream_id)
        if window is None:  # written before its state was kept: it cannot be re-opened
            return self._late(stream_id, message.session_id, message.seq, message)
        self._count(window, message, capture_ms, message.seq)
        session.closed.update((message.seq,))
        session.last_active = publish_ms
        self._dirty.add((stream_id, message.session_id, message.model))
        self._emit[(stream_id, start)] = window
        self.counters.counted += 1
        self.counters.reopened += 1
        return "counted"

    def _reject(self, handle: Any, reason: str) -> str:
        self._out.rejected.append((handle, reason))
        self.counters.rejected += 1
        return "rejected"

    def _queue(self, stream_id: int, stream: _Stream) -> None:
        """Make sure the heap holds the stream's idle deadline, or an earlier one (re-queued when it pops)."""
        deadline = stream.last_publish + self.idle_ms
        if stream.queued is None or deadline < stream.queued:
            stream.queued = deadline
            heapq.heappush(self._deadlines, (deadline, stream_id))

    def _advance(self, now_ms: int) -> None:
        if now_ms <= self.clock_ms:
            return
        self.clock_ms = now_ms
        if self._unclocked:
            for stream_id in self._unclocked:
                restored = self._streams.get(stream_id)
                if restored is not None and restored.windows:
                    for window in restored.windows.values():
                        window.last_publish = max(window.last_publish, now_ms)
                    restored.last_publish = max(restored.last_publish, now_ms)
                    self._queue(stream_id, restored)
            self._unclocked = []
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now_ms:
            queued, stream_id = heapq.heappop(deadlines)
            stream = self._streams.get(stream_id)
            if stream is None or stream.queued != queued:
                continue  # superseded by an earlier entry, or the stream was forgotten
            stream.queued = None
            if not stream.windows:
                continue
            if stream.last_publish + self.idle_ms <= now_ms:
                self.counters.idle_closes += 1
                self._close_stream(stream_id, stream, len(stream.windows))
            else:
                self._queue(stream_id, stream)  # it received messages since: its deadline moved on

    def _close_due(self, stream_id: int, stream: _Stream) -> None:
        """Close the windows whose end plus the allowed lateness the watermark has reached."""
        limit = stream.watermark - self.lateness_ms - self.window_ms  # start of the latest window that is due
        due = sum(1 for start in stream.windows if start <= limit)
        if due:
            self._close_stream(stream_id, stream, due)

    def _close_stream(self, stream_id: int, stream: _Stream, count: int) -> None:
        """Close the ``count`` earliest open windows of a stream, in event-time order."""
        for start in sorted(stream.windows)[:count]:
            self._close(stream_id, stream, stream.windows.pop(start))
        windows = stream.windows
        stream.due_at = min(windows) + self.window_ms + self.lateness_ms if windows else DUE_NEVER
        last = max((w.last_publish for w in windows.values()), default=NEVER)
        if last != stream.last_publish:
            stream.last_publish = last
            if windows:
                self._queue(stream_id, stream)

    def _close(self, stream_id: int, stream: _Stream, window: WindowAcc) -> None:
        """Move a window from open to written: its sequences become counted; its rows follow at take()."""
        out = self._out
        start_ms = window.start
        end_ms = start_ms + self.window_ms
        for model_name, model in window.models.items():
            for session_id, seqs in model.seqs.items():
                key = (stream_id, session_id, model_name)
                session = self._sessions[key]
                session.closed.update(seqs)
                session.open.difference_update(seqs)
                self._dirty.add(key)
        if window.version:
            out.discard.append((stream_id, from_millis(start_ms), window.version))
        window.dirty = False
        if stream.closed_until is None or end_ms > stream.closed_until:
            stream.closed_until = end_ms
        stream.closed[start_ms] = window  # a late message of this batch re-opens it from here
        self._cached.add(stream_id)
        self._emit[(stream_id, start_ms)] = window
        self._open_windows -= 1
        self.counters.windows_closed += 1

    def _write_rows(self, stream_id: int, window: WindowAcc, out: Flush) -> None:
        """The rows of a written window (all of them, replacing what an earlier write left), its state for late
        data, and its unique objects: a track id counts in the earliest window that holds it."""
        start_ms = window.start
        start, end = from_millis(start_ms), from_millis(start_ms + self.window_ms)
        for model_name in sorted(window.models):
            model = window.models[model_name]
            out.frame_windows.append(
                FrameWindowRow(
                    stream_id, start, model_name, end, model.frames, len(model.seqs),
                    from_millis(model.first_ms), from_millis(model.last_ms),
                )
            )
            for class_name in sorted(model.classes):
                acc = model.classes[class_name]
                unique = 0
                for session_id, track_id in sorted(acc.tracks):
                    counted = self._sessions[(stream_id, session_id, model_name)].tracks
                    key = (class_name, track_id)
                    where = counted.get(key)
                    if where == start_ms:
                        unique += 1
                    elif where is None or where > start_ms:
                        counted[key] = start_ms
                        unique += 1
                        out.tracks.append(TrackRow(stream_id, session_id, model_name, class_name, track_id, start))
                        if where is not None and (stream_id, where) not in self._emit:
                            out.moves.append(UniqueMove(stream_id, from_millis(where), model_name, class_name))
                out.object_stats.append(
                    ObjectStatRow(
                        stream_id, start, model_name, class_name, end, acc.class_id, model.frames,
                        acc.detections, acc.detections / model.frames, acc.max,
                        acc.min_present if acc.frames_present == model.frames else 0, unique,
                    )
                )
        state = snapshot.encode(window)
        state["publish"] = 0  # an arrival time of this process: meaningless to the next one
        out.closed.append(ClosedWindow(stream_id, start, state))
