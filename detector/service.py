"""The detector worker: frames topic -> batched inference -> tracking -> detections topic (+ snapshots).

Delivery: a frame is acknowledged only after the broker confirmed its detection message (the send callback
queues the acknowledgement; the loop applies it). A crash therefore loses nothing: unacknowledged frames come
back and are detected again (duplicates are possible, gaps are not). A frame that cannot be decoded goes to
the dead-letter topic at once, is counted, and the worker goes on.

Batches are gathered across streams (Key_Shared keeps each stream's frames in order), up to
``detector_batch_size`` frames or ``detector_batch_timeout_ms``, and run through the model in one call.
"""

from __future__ import annotations

import collections
import logging
import signal
import threading
import time
from dataclasses import dataclass, field

from core.broker import DeadLetters, create_producer, send, subscribe
from core.messages import Detection, DetectionMessage, MessageError, decode_frame, encode_detections
from core.settings import Settings
from detector import metrics
from detector.frames import DecodedFrame, decode_jpeg
from detector.model import Detector, FrameResult
from detector.snapshots import SnapshotWriter
from detector.tracking import StreamTrackers

log = logging.getLogger(__name__)

BACKLOG_POLL_S = 5.0
MAX_KICK_BACKOFF_S = 30.0


def stall_interval(settings: Settings) -> float:
    """Seconds of idleness (with unseen entries on the topic) before re-subscribing; 0 = never."""
    value = settings.detector_stall_resubscribe_s
    if value < 0:  # auto: only the embedded broker needs it
        return 0.0 if settings.pulsar_url else 0.2
    return value


def _position(message_id) -> tuple[int, int]:
    return (message_id.ledger_id(), message_id.entry_id())


@dataclass
class RunStats:
    """What one run did (also what the CLI prints at exit)."""

    frames: int = 0  # detection messages confirmed and frames acknowledged
    received: int = 0
    dead_letters: int = 0
    send_failures: int = 0
    batches: int = 0
    detections: int = 0
    inference_s: float = 0.0
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    first_received_at: float | None = None  # monotonic time of the first frame received
    last_confirmed_at: float | None = None  # monotonic time of the last detection message the broker confirmed

    @property
    def busy_frames_per_second(self) -> float:
        """Throughput from the first frame received to the last message confirmed (idle time excluded)."""
        if self.first_received_at is None or self.last_confirmed_at is None:
            return 0.0
        return self.frames / max(self.last_confirmed_at - self.first_received_at, 1e-9)

    @property
    def seconds(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def build_message(decoded: DecodedFrame, result: FrameResult, track_ids, names: dict[int, str], model: str,
                  weights_hash: str, inference_ms: float) -> DetectionMessage:
    """The detections contract for one frame (an empty list when nothing was found)."""
    meta = decoded.frame.meta
    detections = []
    for i in range(len(result)):
        x1, y1, x2, y2 = (round(float(v), 5) for v in result.boxes_norm[i])
        class_id = int(result.class_ids[i])
        track_id = None if track_ids is None or track_ids[i] < 0 else int(track_ids[i])
        detections.append(Detection(
            class_id=class_id, class_name=names[class_id], confidence=round(float(result.confidences[i]), 4),
            box=(x1, y1, max(x1, x2), max(y1, y2)), track_id=track_id,
        ))
    return DetectionMessage(
        stream_id=meta.stream_id, session_id=meta.session_id, seq=meta.seq, capture_time=meta.capture_time,
        model=model, weights_hash=weights_hash, image_width=meta.width, image_height=meta.height,
        inference_ms=round(inference_ms, 3), detections=detections,
    )


class DetectorService:
    """One detector process's consume -> infer -> publish loop."""

    def __init__(
        self,
        settings: Settings,
        *,
        detector: Detector | None = None,
        subscription: str | None = None,
        consumer_name: str | None = None,
        idle_exit_s: float | None = None,
        max_frames: int | None = None,
    ):
        self.settings = settings
        self.detector = detector or Detector(settings)
        self.subscription = subscription or settings.detector_subscription
        self.consumer_name = consumer_name
        self.idle_exit_s = idle_exit_s
        self.max_frames = max_frames
        self.trackers = None if settings.detector_tracker == "none" else StreamTrackers(
            settings.detector_tracker, min_frames=settings.detector_track_min_frames)
        self.snapshots = SnapshotWriter(settings, self.detector.name)
        self.stats = RunStats()
        self._stop = threading.Event()
        self._acks: collections.deque = collections.deque()
        self._pending = 0
        self._pending_lock = threading.Condition()
        self._recent: collections.deque[tuple[float, int]] = collections.deque()
        self._last_received = None
        self._highest_seen: tuple[int, int] | None = None
        self._backlog_polled = 0.0
        self._stall_s = stall_interval(settings)
        self._kick_backoff_s = self._stall_s
        self._idle_since = time.monotonic()
        self.resubscriptions = 0

    # ------------------------------------------------------------------------------------------ control

    def stop(self) -> None:
        """Finish the current batch, publish, acknowledge, then return from ``run`` (safe in a signal handler)."""
        self._stop.set()

    def run(self, install_signals: bool = False) -> RunStats:
        previous = self._install_signals() if install_signals else {}
        settings = self.settings
        self.consumer = self._subscribe()
        self.producer = create_producer(settings, settings.detections_topic)
        self.dead_letters = DeadLetters(settings, settings.frames_topic)
        self.stats = RunStats()
        last_activity = time.monotonic()
        log.info("detector consuming %s as %r, publishing to %s", settings.frames_topic_fqn, self.subscription,
                 settings.detections_topic_fqn)
        try:
            while not self._stop.is_set():
                messages = self._receive()
                self._apply_acks()
                now = time.monotonic()
                if not messages:
                    if self.idle_exit_s is not None and now - last_activity >= self.idle_exit_s:
                        log.info("no frames for %.1f s: exiting", self.idle_exit_s)
                        break
                    self._kick_if_stalled(now)
                    continue
                if self.max_frames is not None:
                    messages = messages[: self.max_frames - self.stats.received]
                self.process(messages)
                self._poll_backlog(now)
                last_activity = self._idle_since = time.monotonic()  # idle time counts from the batch's end
                self._kick_backoff_s = self._stall_s
                if self.max_frames is not None and self.stats.received >= self.max_frames:
                    log.info("processed %d frames: exiting", self.stats.received)
                    break
        finally:
            self._finish()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return self.stats

    def _install_signals(self) -> dict:
        previous = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: self.stop())
        return previous

    def _subscribe(self):
        batch_size = self.settings.detector_batch_size
        return subscribe(
            self.settings, self.settings.frames_topic, self.subscription, consumer_name=self.consumer_name,
            receiver_queue_size=max(4 * batch_size, 64), batch_max_messages=batch_size,
            batch_timeout_ms=max(self.settings.detector_batch_timeout_ms, 1),
        )

    def _receive(self) -> list:
        messages = list(self.consumer.batch_receive())
        if messages:
            if self.stats.first_received_at is None:
                self.stats.first_received_at = time.monotonic()
            self._last_received = messages[-1].message_id()
            highest = max(_position(message.message_id()) for message in messages)
            if self._highest_seen is None or highest > self._highest_seen:
                self._highest_seen = highest
        return messages

    def _kick_if_stalled(self, now: float) -> None:
        """Re-subscribe when idle although the topic holds entries this consumer never saw.

        pulsar-lite 0.2 redelivers a crashed consumer's messages one per key and dispatches the next one only
        on a new publish or flow request, not on the acknowledgement: without a kick the backlog would wait
        for new frames. A new subscription sends a flow request. Off with an external broker by default
        (see ``detector_stall_resubscribe_s``); backs off while kicks bring nothing.
        """
        if not self._stall_s or now - self._idle_since < self._kick_backoff_s:
            return
        self._idle_since = now
        self._kick_backoff_s = min(self._kick_backoff_s * 2, MAX_KICK_BACKOFF_S)
        try:
            last = self.consumer.get_last_message_id()
        except Exception as error:
            log.debug("last message id unknown: %s", error)
            return
        if last.entry_id() < 0 or (self._highest_seen is not None and _position(last) <= self._highest_seen):
            return
        self._settle()
        self.consumer.close()
        self.consumer = self._subscribe()
        self.resubscriptions += 1
        log.debug("re-subscribed to %s (idle with unseen entries)", self.settings.frames_topic_fqn)

    # ------------------------------------------------------------------------------------------- a batch

    def process(self, messages: list) -> None:
        """Decode, infer, track and publish one batch; undecodable frames go to the dead-letter topic."""
        self.stats.received += len(messages)
        decoded: list[tuple[object, DecodedFrame]] = []
        for message in messages:
            try:
                frame = decode_frame(message.properties(), message.event_timestamp(), message.data())
            except MessageError as error:
                self._dead_letter(message, "contract", error)
                continue
            try:
                decoded.append((message, decode_jpeg(frame, self.detector.imgsz)))
            except MessageError as error:
                self._dead_letter(message, "jpeg", error)
        if not decoded:
            return
        started = time.perf_counter()
        results = self.detector.predict([frame.image for _, frame in decoded])
        elapsed = time.perf_counter() - started
        per_frame_ms = elapsed * 1000 / len(decoded)
        self.stats.batches += 1
        self.stats.inference_s += elapsed
        metrics.BATCH_SIZE.observe(len(decoded))
        metrics.BATCH_SECONDS.observe(elapsed)
        for _ in decoded:
            metrics.INFERENCE_MS.observe(per_frame_ms)
        detector = self.detector
        for (message, frame), result in zip(decoded, results, strict=True):
            meta = frame.frame.meta
            track_ids = None
            if self.trackers is not None:
                track_ids = self.trackers.update(meta.stream_id, meta.session_id, meta.seq, result.boxes, frame.image)
            outgoing = build_message(frame, result, track_ids, detector.names, detector.name,
                                     detector.weights.sha256, per_frame_ms)
            with self._pending_lock:
                self._pending += 1
            send(self.producer, encode_detections(outgoing), callback=self._confirmation(message))
            self.stats.detections += len(outgoing.detections)
            metrics.DETECTIONS.inc(len(outgoing.detections))
            if self.snapshots.due(meta.stream_id):
                self.snapshots.write(meta.stream_id, meta.capture_time, frame.image, outgoing.detections)
        metrics.IN_FLIGHT.set(self._pending)
        if self.trackers is not None:
            metrics.STREAMS_TRACKED.set(len(self.trackers))

    def _dead_letter(self, message, reason: str, error: Exception) -> None:
        log.warning("frame %s to the dead-letter topic: %s", message.message_id(), error)
        try:
            self.dead_letters.send(message, str(error))
        except Exception as failure:  # the broker refused: let the frame come back later instead
            log.error("could not dead-letter frame %s: %s", message.message_id(), failure)
            self.consumer.negative_acknowledge(message)
            return
        self.consumer.acknowledge(message)
        self.stats.dead_letters += 1
        metrics.DEAD_LETTERS.labels(reason).inc()

    # ---------------------------------------------------------------------------------- acknowledgements

    def _confirmation(self, message):
        """The send callback: queue the frame's acknowledgement (applied by the loop, not the client thread)."""

        def done(result, _message_id) -> None:
            import pulsar

            self._acks.append((message, result == pulsar.Result.Ok))
            self.stats.last_confirmed_at = time.monotonic()
            with self._pending_lock:
                self._pending -= 1
                self._pending_lock.notify_all()

        return done

    def _apply_acks(self) -> None:
        confirmed = 0
        while self._acks:
            message, ok = self._acks.popleft()
            if ok:
                self.consumer.acknowledge(message)
                confirmed += 1
            else:  # the broker did not take the detection message: have the frame delivered again
                self.consumer.negative_acknowledge(message)
                self.stats.send_failures += 1
                metrics.SEND_FAILURES.inc()
        if confirmed:
            self.stats.frames += confirmed
            metrics.FRAMES.inc(confirmed)
        self._update_rate(confirmed)
        metrics.IN_FLIGHT.set(self._pending)

    def _update_rate(self, confirmed: int, window_s: float = 10.0) -> None:
        now = time.monotonic()
        self._recent.append((now, confirmed))
        while self._recent and now - self._recent[0][0] > window_s:
            self._recent.popleft()
        span = now - self._recent[0][0] if len(self._recent) > 1 else 0.0
        if span > 0:
            metrics.FRAMES_PER_SECOND.set(sum(count for _, count in list(self._recent)[1:]) / span)

    def _settle(self, timeout_s: float = 30.0) -> None:
        """Publish what is pending and apply the acknowledgements it earned."""
        self.producer.flush()
        with self._pending_lock:
            self._pending_lock.wait_for(lambda: self._pending == 0, timeout=timeout_s)
        self._apply_acks()

    def _finish(self) -> None:
        """Settle, then close everything."""
        try:
            self._settle()
        finally:
            self.stats.ended = time.monotonic()
            for closeable in (self.producer, self.dead_letters, self.consumer):
                try:
                    closeable.close()
                except Exception as error:  # closing must not hide the real outcome
                    log.debug("close failed: %s", error)
        log.info("detector: %d frames in %.1f s (%.2f/s), %d dead letters, %d send failures",
                 self.stats.frames, self.stats.seconds, self.stats.frames_per_second, self.stats.dead_letters,
                 self.stats.send_failures)

    def _poll_backlog(self, now: float) -> None:
        """Estimate the backlog from the topic's last entry id (Pulsar's admin stats are not always there)."""
        if now - self._backlog_polled < BACKLOG_POLL_S or self._last_received is None:
            return
        self._backlog_polled = now
        try:
            last = self.consumer.get_last_message_id()
            if last.ledger_id() == self._last_received.ledger_id():
                metrics.BACKLOG.set(max(last.entry_id() - self._last_received.entry_id(), 0))
        except Exception as error:
            log.debug("backlog unknown: %s", error)
