"""The aggregator's window state machine: pure logic, no Pulsar, no Postgres, no clock of its own.

Input: decoded detection messages, each with its publish time (ms, the broker's clock) and an opaque handle
(the Pulsar message, to acknowledge later); the wall clock only through :meth:`WindowMachine.tick`, which the
worker calls when it has caught up with the topic. Output (:meth:`WindowMachine.take`): the rows of closed
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
  broker's clock: a stream's deadline is the latest publish time of the messages in its open windows plus the
  idle timeout; the machine's clock is the latest publish time seen, or the wall clock when caught up. Both are
  functions of the messages themselves, so a replay takes the same decisions at the same points.
- A window closes only after every earlier window of its stream, so "first seen" follows event time.
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
from aggregator.rows import Flush, FrameWindowRow, LateRow, ObjectStatRow, OpenWindow, SessionKey, TrackRow
from core.messages import DetectionMessage, from_millis, to_millis

MAX_SESSION_ID = 36  # late_detections.session_id is VARCHAR(36) (a UUID); longer ids cannot be stored
DUE_NEVER = 2**62


@dataclass(slots=True)
class Counters:
    """Running totals (the worker turns them into Prometheus metrics)."""

    counted: int = 0
    duplicates: int = 0
    late: int = 0
    rejected: int = 0
    windows_closed: int = 0
    idle_closes: int = 0



class _Stream:
    __slots__ = ("closed_until", "due_at", "last_publish", "queued", "registered", "watermark", "windows")

    def __init__(self, registered: bool, closed_until: int | None):
        self.registered = registered
        self.closed_until = closed_until  # every window starting before this is closed (written)
        self.watermark = closed_until if closed_until is not None else NEVER
        self.windows: dict[int, WindowAcc] = {}
        self.last_publish = NEVER  # latest publish time among messages in open windows
        self.queued: int | None = None  # earliest idle deadline queued in the heap for this stream
        self.due_at = DUE_NEVER  # watermark at which the earliest open window closes (its end + lateness)


class _Session:
    __slots__ = ("closed", "last_active", "open", "tracks")

    def __init__(self, closed: IntRanges, tracks: set[tuple[str, int]]):
        self.closed = closed  # sequences counted in closed windows (persisted)
        self.tracks = tracks  # (class, track id) counted in closed windows (persisted)
        self.open: set[int] = set()  # sequences in open windows (recomputed on replay)
        self.last_active = NEVER


class WindowMachine:
    """Per-stream event-time windows with late data, duplicates and first-seen track ids; see the module doc.

    Before :meth:`add` sees a stream or a (stream, session, model) for the first time, the caller loads its
    persisted state: :meth:`unknown` says what is missing, :meth:`restore_session` and then
    :meth:`restore_stream` (with the stream's open windows) put it in.
    """

    def __init__(self, window_seconds: float, allowed_lateness_seconds: float, idle_timeout_s: float):
        if window_seconds <= 0 or allowed_lateness_seconds < 0 or idle_timeout_s <= 0:
            raise ValueError("window and idle timeout must be positive, lateness not negative")
        self.window_ms = round(window_seconds * 1000)
        self.lateness_ms = round(allowed_lateness_seconds * 1000)
        self.idle_ms = round(idle_timeout_s * 1000)
        self.clock_ms = NEVER
        self.counters = Counters()
        self._streams: dict[int, _Stream] = {}
        self._sessions: dict[SessionKey, _Session] = {}
        self._deadlines: list[tuple[int, int]] = []  # heap of (idle deadline, stream id); stale entries skipped
        self._out = Flush()
        self._dirty: set[SessionKey] = set()
        self._touched: list[tuple[int, WindowAcc]] = []  # open windows changed since the last take()
        self._open_windows = 0

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

    def restore_session(self, key: SessionKey, seqs: IntRanges, tracks: Iterable[tuple[str, int]]) -> None:
        if key not in self._sessions:
            self._sessions[key] = _Session(seqs, set(tracks))

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
            if window.last_publish > stream.last_publish:
                stream.last_publish = window.last_publish
        if stream.windows:
            stream.due_at = min(stream.windows) + self.window_ms + self.lateness_ms
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
        if closes_at <= stream.watermark or (stream.closed_until is not None and start < stream.closed_until):
            out.late.append(LateRow(stream_id, session_id, seq, message.capture_time))
            self.counters.late += 1
            return "late"

        window = stream.windows.get(start)
        if window is None:
            window = stream.windows[start] = WindowAcc(start)
            self._open_windows += 1
            if closes_at < stream.due_at:
                stream.due_at = closes_at
        if not window.dirty:
            window.dirty = True
            self._touched.append((stream_id, window))
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
        session.open.add(seq)
        session.last_active = publish_ms
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

    def evict(self) -> int:
        """Forget idle sessions and streams with nothing open (their state is persisted); returns how many.

        Call only when everything taken has been committed: a forgotten state is reloaded from Postgres."""
        if self._dirty or self._out or self._touched:
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
        out = self._out
        start_ms = window.start
        end_ms = start_ms + self.window_ms
        start, end = from_millis(start_ms), from_millis(end_ms)
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
                    if (class_name, track_id) not in counted:
                        counted.add((class_name, track_id))
                        unique += 1
                        out.tracks.append(TrackRow(stream_id, session_id, model_name, class_name, track_id, start))
                out.object_stats.append(
                    ObjectStatRow(
                        stream_id, start, model_name, class_name, end, acc.class_id, model.frames,
                        acc.detections, acc.detections / model.frames, acc.max,
                        acc.min_present if acc.frames_present == model.frames else 0, unique,
                    )
                )
            for session_id, seqs in model.seqs.items():
                key = (stream_id, session_id, model_name)
                session = self._sessions[key]
                session.closed.update(seqs)
                session.open.difference_update(seqs)
                self._dirty.add(key)
        if window.version:
            out.discard.append((stream_id, start, window.version))
        window.dirty = False
        if stream.closed_until is None or end_ms > stream.closed_until:
            stream.closed_until = end_ms
        self._open_windows -= 1
        self.counters.windows_closed += 1
