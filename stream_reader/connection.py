"""One session of a reader: resolve the stream, check its playlist, open the capture, sample, encode and publish
until the session ends. The decisions are :mod:`stream_reader.policy`'s; this module does the I/O."""

from __future__ import annotations

import collections
import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from core.db.models import StreamStatus
from core.messages import FrameMeta
from core.probe import StreamUnreachable
from core.settings import Settings
from stream_reader import metrics, policy
from stream_reader.capture import Capture, CaptureError, encode_jpeg
from stream_reader.formats import NoUsableFormat
from stream_reader.health import HealthStore, SessionHealth, StreamTarget, utcnow
from stream_reader.lease import Continuation, StreamLease
from stream_reader.playlist import PlaylistState, fetch_playlist
from stream_reader.policy import Outcome, StreamMemory
from stream_reader.publisher import FramePublisher, PublishCounter
from stream_reader.resolve import ResolvedSource
from stream_reader.sampling import CaptureClock, KeyframeGate, SampleSchedule, burst_seconds

log = logging.getLogger(__name__)

# A run waiting for the lease keeps its samples of this many last seconds (see _after).
WAITING_KEPT_S = 5.0
# Source times this far below the previous run's last one are another time base (see _after).
SAME_TIMEBASE_S = 30.0


class Connection:
    """A stream's sessions, one :meth:`run` each; ``memory`` carries what one session tells the next."""

    def __init__(self, target: StreamTarget, settings: Settings, publisher: FramePublisher, store: HealthStore,
                 *, resolver: Callable[..., ResolvedSource], stop_event: threading.Event,
                 store_call: Callable[..., Any], memory: StreamMemory, lease: StreamLease):
        self.target = target
        self.settings = settings
        self.publisher = publisher
        self.store = store
        self.resolver = resolver
        self.stop_event = stop_event
        self.store_call = store_call
        self.memory = memory
        self.lease = lease
        self.label = str(target.id)
        self.position: Continuation | None = None  # where this run's frames end: the next run continues there

    # ----------------------------------------------------------------------------------------- connecting
    def run(self, health: SessionHealth, counter: PublishCounter, started: float) -> Outcome:
        """Resolve, open and read until the session ends; returns why it ended."""
        s = self.settings
        try:
            source = self.resolver(self.target.url, self.target.kind, max_height=s.reader_max_height,
                                   timeout_s=s.resolve_timeout_s)
        except StreamUnreachable as error:
            reason = re.sub(r" \(caused by .*\)$", "", error.reason)  # urllib3 repeats itself in brackets
            return Outcome("resolve_failed", f"cannot resolve the stream: {reason}")
        except NoUsableFormat as error:
            return Outcome("resolve_failed", f"cannot resolve the stream: {error}")
        if self.stop_event.is_set():
            return Outcome("stopped")
        health.resolved_url = source.url
        outcome = policy.on_resolved(source, self.memory)
        if outcome is not None:
            return outcome
        playlist = self._playlist(source) if source.is_hls else None
        if playlist is not None:
            outcome = policy.on_playlist(playlist, self.memory)
            if outcome is not None:
                return outcome
        stall_timeout = policy.stall_timeout(s.reader_read_timeout_s, s.reader_stall_segments, playlist)
        live = policy.reads_live(source, playlist)
        try:
            capture = Capture(source.url, open_timeout_s=s.reader_open_timeout_s, read_timeout_s=stall_timeout,
                              threads=s.reader_decode_threads, headers=source.headers)
        except CaptureError as error:
            return Outcome("open_failed", str(error))
        with capture:
            health.width, health.height = capture.width or None, capture.height or None
            health.source_fps = capture.fps or (source.format.fps if source.format else None)
            health.bitrate = capture.bitrate or _format_bitrate(source)
            target_duration = playlist.target_duration if playlist else None
            meters = _Meters(self.label)
            try:
                return self._read_frames(capture, source, live, target_duration, health, counter, started, meters)
            finally:
                meters.flush()

    def _playlist(self, source: ResolvedSource) -> PlaylistState | None:
        try:
            return fetch_playlist(source.url, min(5.0, self.settings.resolve_timeout_s), source.headers)
        except Exception as error:  # the playlist check is a refinement: without it the capture still decides
            log.debug("stream %s: playlist not readable: %s", self.label, error)
            return None

    # -------------------------------------------------------------------------------------------- reading
    def _read_frames(
        self,
        capture: Capture,
        source: ResolvedSource,
        live: bool,
        target_duration: float | None,
        health: SessionHealth,
        counter: PublishCounter,
        started: float,
        meters: _Meters,
    ) -> Outcome:
        s = self.settings
        schedule = SampleSchedule(self.target.fps, burst_seconds=burst_seconds(target_duration))
        gate = KeyframeGate()
        clock = CaptureClock(utcnow(), time.monotonic())
        session_id, seq = health.id, 0  # a new session, unless this run continues the previous run's (lease)
        published = 0
        waiting: collections.deque = collections.deque()  # (frame, sampled at) while another run publishes
        next_write = time.monotonic() + s.reader_health_interval_s
        pace_origin: tuple[float, float] | None = None  # (media, monotonic) for pacing a VOD to real time
        while True:
            if self.stop_event.is_set():
                return Outcome("stopped")
            cpu = time.thread_time()
            packet = capture.read()
            meters.decode += time.thread_time() - cpu
            now = time.monotonic()
            if packet.blocked_s >= 0.9 * capture.read_timeout_s:
                health.stalls += 1
                metrics.STALLS.labels(self.label).inc()
                metrics.STREAM_LIVE.labels(self.label).set(0)
                playlist = self._playlist(source) if source.is_hls else None
                return policy.on_stall(source, playlist, self.memory, packet.blocked_s)
            if not packet.ok:
                metrics.STREAM_LIVE.labels(self.label).set(0)
                playlist = self._playlist(source) if source.is_hls else None
                return policy.on_close(source, live, playlist, self.memory, packet.error)
            health.frames_read += 1
            meters.read += 1
            if not live and packet.media_s is not None:  # a file or VOD: no faster than real time
                if pace_origin is None:
                    pace_origin = (packet.media_s, now)
                ahead = (packet.media_s - pace_origin[0]) - (now - pace_origin[1])
                if ahead > 0.02 and self.stop_event.wait(min(ahead, 5.0)):
                    return Outcome("stopped")
            cpu = time.thread_time()
            wanted = gate.decode(packet.media_s, packet.keyframe, schedule.next_media_due)
            frames = capture.decode(skip=not wanted)
            meters.decode += time.thread_time() - cpu
            meters.decoded += len(frames)
            for frame in frames:
                if not schedule.offer(now, frame.media_s):
                    continue
                if self.lease.should_end(now):
                    return Outcome("stopped")
                if not self.lease.admit(now):
                    # Another run publishes this stream now: keep the capture open (and the last few samples) to
                    # take over at once.
                    waiting.append((frame, now))
                    while waiting and now - waiting[0][1] > WAITING_KEPT_S:
                        waiting.popleft()
                    continue
                due = [(frame, now)]
                not_before = None
                if self.lease.continuation is not None:
                    continuation, self.lease.continuation = self.lease.continuation, None
                    session_id, seq = continuation.session_id, continuation.next_seq
                    log.info("stream %s: continuing session %s at frame %d", self.label, session_id, seq)
                    due = _after(continuation.last_media_s, [*waiting, (frame, now)])
                    not_before = continuation.last_captured_at
                waiting.clear()
                for kept, sampled_at in due:
                    cpu = time.thread_time()
                    image = kept.image()
                    meters.decode += time.thread_time() - cpu
                    cpu = time.thread_time()
                    jpeg, width, height = encode_jpeg(image, s.reader_max_width, s.reader_jpeg_quality)
                    meters.encode += time.thread_time() - cpu
                    captured = clock.at(sampled_at)
                    if not_before is not None and captured <= not_before:
                        # a sample this run kept while waiting, read here before the previous run read its last
                        captured = not_before = not_before + timedelta(milliseconds=1)
                    meta = FrameMeta(self.target.id, session_id, seq, captured, width, height)
                    self.publisher.publish(meta, jpeg, counter)
                    seq += 1
                    published += 1
                    self.position = Continuation(session_id, seq, kept.media_s, captured)
                    health.last_frame_at = captured
                    if published == 1:
                        outcome = self._first_frame(health, counter, started)
                        if outcome is not None:
                            return outcome
            if now >= next_write:
                next_write = now + s.reader_health_interval_s
                meters.flush()
                outcome = self._write_health(health, counter)
                if outcome is not None:
                    return outcome

    def _first_frame(self, health: SessionHealth, counter: PublishCounter, started: float) -> Outcome | None:
        health.startup_seconds = round(time.monotonic() - started, 3)
        metrics.STREAM_LIVE.labels(self.label).set(1)
        change = self.store_call(self.store.set_status, self.target.id, StreamStatus.LIVE, None,
                                 reset_failures=True, seen_live=self.memory.seen_live)
        outcome = policy.on_status(change.status) if change is not None else None
        return outcome if outcome is not None else self._write_health(health, counter)

    def _write_health(self, health: SessionHealth, counter: PublishCounter) -> Outcome | None:
        """Write the session's figures; end the session if a person paused or removed the stream."""
        health.frames_published = counter.published
        if counter.last_error:
            health.last_error = counter.last_error
        return policy.on_status(self.store_call(self.store.write_session, health, default="unknown"))


class _Meters:
    """Per-frame figures summed locally and added to the Prometheus counters every few seconds, not per frame."""

    def __init__(self, label: str):
        self.label = label
        self.read = 0
        self.decoded = 0
        self.decode = 0.0
        self.encode = 0.0

    def flush(self) -> None:
        metrics.FRAMES_READ.labels(self.label).inc(self.read)
        metrics.FRAMES_DECODED.labels(self.label).inc(self.decoded)
        metrics.DECODE_SECONDS.labels(self.label).inc(self.decode)
        metrics.ENCODE_SECONDS.labels(self.label).inc(self.encode)
        self.read, self.decoded, self.decode, self.encode = 0, 0, 0.0, 0.0


def _format_bitrate(source: ResolvedSource) -> int | None:
    if source.format is not None and source.format.tbr_kbps:
        return int(source.format.tbr_kbps * 1000)
    return None


def _after(last_media_s: float | None, samples: list[tuple[Any, float]]) -> list[tuple[Any, float]]:
    """The samples a run that takes a stream over publishes first: those after the previous run's last frame.

    Two captures of a live HLS stream see the same source times (the segments' timestamps) but may lag each other
    by a segment. A capture behind the previous run would repeat frames it sent, one ahead would leave a gap: so
    the waiting run kept its last samples, and sends those whose source time follows the previous run's last.
    Times far below it are another time base (an RTSP or file capture starts at 0): then only the newest sample.
    """
    if last_media_s is None:
        return samples[-1:]
    later = [(f, t) for f, t in samples if f.media_s is not None and f.media_s > last_media_s]
    same_base = any(f.media_s is not None and f.media_s > last_media_s - SAME_TIMEBASE_S for f, _ in samples)
    return later if same_base else samples[-1:]
