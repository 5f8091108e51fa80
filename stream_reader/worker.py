"""One thread per stream: resolve, connect, sample, publish; reconnect with backoff; record health.

A connection ("session") ends when a read stalls, the source closes, or the reader stops. What happens next
depends on why it ended:

- the broadcast ended (ENDLIST in the playlist, or yt-dlp no longer says live): status ENDED, never reopened
  (reopening an ended playlist replays its last segments: duplicate frames);
- anything else: status RECONNECTING with the error as reason, then a new session after an exponential
  backoff with jitter; a session that delivered no frame counts as failed, and ``max_failed_sessions`` of
  them in a row turn the stream FAILED.

Nothing a stream does may stop another: every error is caught here, recorded, and retried.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from core.backoff import Backoff
from core.db.models import ACTIVE_STATUSES, StreamStatus
from core.messages import FrameMeta
from core.probe import StreamUnreachable
from core.settings import Settings
from stream_reader import metrics
from stream_reader.capture import Capture, CaptureError, encode_jpeg
from stream_reader.formats import NoUsableFormat
from stream_reader.health import HealthStore, SessionHealth, StreamTarget, utcnow
from stream_reader.playlist import PlaylistState, fetch_playlist
from stream_reader.publisher import FramePublisher, PublishCounter
from stream_reader.resolve import ResolvedSource, resolve
from stream_reader.sampling import CaptureClock, KeyframeGate, SampleSchedule, burst_seconds

log = logging.getLogger(__name__)

TERMINAL = {"ended", "stopped", "paused", "removed"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """Why a session ended: ``kind`` goes to ``reader_sessions.end_reason``, ``reason`` to the status."""

    kind: str
    reason: str | None = None


class StreamWorker(threading.Thread):
    def __init__(
        self,
        target: StreamTarget,
        settings: Settings,
        publisher: FramePublisher,
        store: HealthStore,
        *,
        resolver: Callable[..., ResolvedSource] = resolve,
    ):
        super().__init__(name=f"reader-{target.id}", daemon=True)
        self.target = target
        self.settings = settings
        self.publisher = publisher
        self.store = store
        self.resolver = resolver
        self.label = str(target.id)
        self._stop_event = threading.Event()
        self.seen_live = False
        self.published = 0
        self.sessions = 0
        self.final_status: str | None = None
        self._stalled_at: tuple[int, str] | None = None  # newest playlist segment when the last stall happened
        self._db_errors = 0

    # ------------------------------------------------------------------------------------------- control
    def stop(self) -> None:
        self._stop_event.set()

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set()

    def run(self) -> None:
        try:
            self._loop()
        except Exception:  # the loop catches everything it expects; this is the last guard of the thread
            log.exception("stream %s: reader thread failed", self.label)
        finally:
            metrics.STREAM_LIVE.labels(self.label).set(0)

    # ---------------------------------------------------------------------------------------------- loop
    def _loop(self) -> None:
        s = self.settings
        backoff = Backoff(s.reader_backoff_initial_s, s.reader_backoff_max_s, s.reader_backoff_jitter)
        reconnects = 0
        last_error: str | None = None  # why the latest connection ended, until a new one delivers frames
        while not self.stopping:
            delivered, outcome = self._session(reconnects)
            self.sessions += 1
            if outcome.kind == "ended":
                change = self.store_call(self.store.set_status, self.target.id, StreamStatus.ENDED, outcome.reason)
                self.final_status = change.status if change else StreamStatus.ENDED.value
                log.info("stream %s ended: %s", self.label, outcome.reason)
                return
            if outcome.kind == "stopped":
                last_error = None if delivered else last_error
                break
            if outcome.kind in TERMINAL:  # paused or removed by a person
                self.final_status = outcome.kind
                return
            if delivered:
                backoff.reset()
            last_error = outcome.reason
            change = self.store_call(
                self.store.set_status, self.target.id, StreamStatus.RECONNECTING, outcome.reason,
                count_failure=not delivered,
            )
            if change is not None and change.status not in ACTIVE_STATUSES:
                self.final_status = change.status  # failed too often, paused, or removed
                log.warning("stream %s: %s, not reading it any more", self.label, change.status or "removed")
                return
            delay = backoff.next_delay()
            log.info("stream %s: %s; reconnecting in %.1f s", self.label, outcome.reason, delay)
            if self._stop_event.wait(delay):
                break
            reconnects += 1
            metrics.RECONNECTS.labels(self.label).inc()
        # No reader runs any more: neither "live" nor "reconnecting" would be true; keep the last error visible.
        reason = "reader stopped" + (f"; last error: {last_error}" if last_error else "")
        self.store_call(self.store.set_status, self.target.id, StreamStatus.PENDING, reason,
                        only_from={StreamStatus.LIVE.value, StreamStatus.RECONNECTING.value})

    def _session(self, reconnects: int) -> tuple[bool, Outcome]:
        """One connection attempt, recorded as one ``reader_sessions`` row. Returns (delivered, outcome)."""
        health = SessionHealth(id=str(uuid.uuid4()), stream_id=self.target.id, started_at=utcnow(),
                               reconnects=reconnects)
        counter = PublishCounter(self.target.id)
        self.store_call(self.store.open_session, health)
        try:
            outcome = self._connect(health, counter, time.monotonic())
        except Exception as error:  # an unexpected library error must not kill the thread
            log.exception("stream %s: unexpected error", self.label)
            outcome = Outcome("error", f"unexpected error: {error!r}"[:500])
        if counter.sent:
            self.publisher.drain(counter)
        self.published += counter.published
        health.frames_published = counter.published
        if counter.last_error:
            health.last_error = counter.last_error
        if outcome.kind not in ("stopped", "ended") and outcome.reason:
            health.last_error = outcome.reason
        health.ended_at = utcnow()
        health.end_reason = outcome.kind
        self.store_call(self.store.write_session, health)
        return counter.sent > 0, outcome

    # ----------------------------------------------------------------------------------------- connecting
    def _was_live(self) -> bool:
        return self.seen_live or self.target.is_live is True

    def _connect(self, health: SessionHealth, counter: PublishCounter, started: float) -> Outcome:
        s = self.settings
        try:
            source = self.resolver(self.target.url, self.target.kind, max_height=s.reader_max_height,
                                   timeout_s=s.resolve_timeout_s)
        except StreamUnreachable as error:
            reason = re.sub(r" \(caused by .*\)$", "", error.reason)  # urllib3 repeats itself in brackets
            return Outcome("resolve_failed", f"cannot resolve the stream: {reason}")
        except NoUsableFormat as error:
            return Outcome("resolve_failed", f"cannot resolve the stream: {error}")
        if self.stopping:
            return Outcome("stopped")
        health.resolved_url = source.url
        if source.is_live:
            self.seen_live = True
        elif source.live_status == "is_upcoming":
            return Outcome("not_live_yet", "the live stream has not started yet")
        elif source.via == "yt-dlp" and self._was_live():
            return Outcome("ended", f"the stream is no longer live (yt-dlp says {source.live_status})")

        stall_timeout = s.reader_read_timeout_s
        playlist = self._playlist(source) if source.is_hls else None
        if playlist is not None:
            if playlist.ended and self._was_live():
                return Outcome("ended", "the broadcast ended (#EXT-X-ENDLIST)")
            if playlist.target_duration:
                stall_timeout = max(stall_timeout, s.reader_stall_segments * playlist.target_duration)
            if self._stalled_at is not None and playlist.last_segment == self._stalled_at:
                return Outcome("stale", "the playlist has not moved since the last stall: the source is down")
            self._stalled_at = None
        live = source.is_live is not False and not (playlist is not None and playlist.ended)
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
            return self._read(capture, source, live, target_duration, health, counter, started)

    def _playlist(self, source: ResolvedSource) -> PlaylistState | None:
        try:
            return fetch_playlist(source.url, min(5.0, self.settings.resolve_timeout_s), source.headers)
        except Exception as error:  # the playlist check is a refinement: without it the capture still decides
            log.debug("stream %s: playlist not readable: %s", self.label, error)
            return None

    # -------------------------------------------------------------------------------------------- reading
    def _read(
        self,
        capture: Capture,
        source: ResolvedSource,
        live: bool,
        target_duration: float | None,
        health: SessionHealth,
        counter: PublishCounter,
        started: float,
    ) -> Outcome:
        meters = _Meters(self.label)
        try:
            return self._read_frames(capture, source, live, target_duration, health, counter, started, meters)
        finally:
            meters.flush()

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
        seq = 0
        next_write = time.monotonic() + s.reader_health_interval_s
        pace_origin: tuple[float, float] | None = None  # (media, monotonic) for pacing a VOD to real time
        while True:
            if self.stopping:
                return Outcome("stopped")
            cpu = time.thread_time()
            packet = capture.read()
            meters.decode += time.thread_time() - cpu
            now = time.monotonic()
            if packet.blocked_s >= 0.9 * capture.read_timeout_s:
                health.stalls += 1
                metrics.STALLS.labels(self.label).inc()
                metrics.STREAM_LIVE.labels(self.label).set(0)
                if source.is_hls:
                    playlist = self._playlist(source)
                    if playlist is not None and playlist.ended and self._was_live():
                        return Outcome("ended", "the broadcast ended (#EXT-X-ENDLIST)")
                    self._stalled_at = playlist.last_segment if playlist else None
                return Outcome("stalled", f"no frame for {packet.blocked_s:.1f} s: the read stalled")
            if not packet.ok:
                metrics.STREAM_LIVE.labels(self.label).set(0)
                return self._after_close(source, live, packet.error)
            health.frames_read += 1
            meters.read += 1
            if not live and packet.media_s is not None:  # a file or VOD: no faster than real time
                if pace_origin is None:
                    pace_origin = (packet.media_s, now)
                ahead = (packet.media_s - pace_origin[0]) - (now - pace_origin[1])
                if ahead > 0.02 and self._stop_event.wait(min(ahead, 5.0)):
                    return Outcome("stopped")
            cpu = time.thread_time()
            wanted = gate.decode(packet.media_s, packet.keyframe, schedule.next_media_due)
            frames = capture.decode(skip=not wanted)
            meters.decode += time.thread_time() - cpu
            meters.decoded += len(frames)
            for frame in frames:
                if not schedule.offer(now, frame.media_s):
                    continue
                cpu = time.thread_time()
                image = frame.image()
                meters.decode += time.thread_time() - cpu
                cpu = time.thread_time()
                jpeg, width, height = encode_jpeg(image, s.reader_max_width, s.reader_jpeg_quality)
                meters.encode += time.thread_time() - cpu
                captured = clock.at(now)
                meta = FrameMeta(self.target.id, health.id, seq, captured, width, height)
                self.publisher.publish(meta, jpeg, counter)
                seq += 1
                health.last_frame_at = captured
                if seq == 1:
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
                                 reset_failures=True, seen_live=self.seen_live)
        if change is not None and change.status is None:
            return Outcome("removed", "the stream was removed")
        if change is not None and change.status == StreamStatus.PAUSED:
            return Outcome("paused", "paused by a person")
        return self._write_health(health, counter)

    def _write_health(self, health: SessionHealth, counter: PublishCounter) -> Outcome | None:
        """Write the session's figures; end the session if a person paused or removed the stream."""
        health.frames_published = counter.published
        if counter.last_error:
            health.last_error = counter.last_error
        status = self.store_call(self.store.write_session, health, default="unknown")
        if status is None:
            return Outcome("removed", "the stream was removed")
        if status == StreamStatus.PAUSED:
            return Outcome("paused", "paused by a person")
        return None

    def _after_close(self, source: ResolvedSource, live: bool, error: str | None = None) -> Outcome:
        """The source closed the connection (not a stall): ended, or worth reconnecting?"""
        if source.is_hls:
            playlist = self._playlist(source)
            if playlist is not None and playlist.ended:
                if self._was_live():
                    return Outcome("ended", "the broadcast ended (#EXT-X-ENDLIST)")
                return Outcome("ended", "end of the video")
        if source.is_live is False or not live:
            return Outcome("ended", "end of the video")
        return Outcome("closed", "the source closed the connection" + (f": {error}" if error else ""))

    # ------------------------------------------------------------------------------------------- database
    def store_call(self, method, *args, default=None, **kwargs):
        """Call a HealthStore method; a database error is logged (rate-limited) and ``default`` returned."""
        try:
            result = method(*args, **kwargs)
        except Exception as error:
            self._db_errors += 1
            if self._db_errors in (1, 10, 100) or self._db_errors % 1000 == 0:
                log.warning("stream %s: health not recorded (%d errors so far): %s", self.label,
                            self._db_errors, str(error).splitlines()[0][:300])
            return default
        return result


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
