"""The detector worker: frames topic -> batched inference -> tracking -> detections topic (+ snapshots).

Delivery: a frame is acknowledged only after the broker confirmed its detection message (see
:mod:`detector.acks`: the send callback queues the outcome, the loop applies it). A crash therefore loses
nothing: unacknowledged frames come back and are detected again (duplicates are possible, gaps are not). A
detection the broker refused is held and published again, with backoff, while no new frame is taken: a good frame
never goes to the dead-letter topic. Only a frame that cannot be decoded goes there, at once, counted.

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
from detector.acks import PendingSends
from detector.frames import DecodedFrame, decode_jpeg
from detector.model import Detector, FrameResult
from detector.snapshots import SnapshotWriter
from detector.track_state import TrackStateStore
from detector.tracking import StreamTrackers

log = logging.getLogger(__name__)

BACKLOG_POLL_S = 5.0


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
            settings.detector_tracker, min_frames=settings.detector_track_min_frames, store=TrackStateStore(settings))
        self.snapshots = SnapshotWriter(settings, self.detector.name)
        self.stats = RunStats()
        self._stop = threading.Event()
        self._recent: collections.deque[tuple[float, int]] = collections.deque()
        self._last_received = None
        self._backlog_polled = 0.0

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
        self.sends = PendingSends(self._send, self.consumer.acknowledge,
                                  retry_max_s=settings.detector_publish_retry_max_s)
        self.stats = RunStats()
        last_activity = time.monotonic()
        log.info("detector consuming %s as %r, publishing to %s", settings.frames_topic_fqn, self.subscription,
                 settings.detections_topic_fqn)
        try:
            while not self._stop.is_set():
                self._apply_acks()
                if self.sends.holding:  # the broker refused detections: publish them again, take no new frame
                    self._stop.wait(self.sends.retry_due())
                    if self.sends.retry():
                        log.warning("publishing %d held detections again", self.sends.pending)
                    self._stop.wait(0.05)
                    last_activity = time.monotonic()
                    continue
                messages = self._receive()
                self._apply_acks()
                now = time.monotonic()
                if not messages:
                    if self.idle_exit_s is not None and now - last_activity >= self.idle_exit_s:
                        log.info("no frames for %.1f s: exiting", self.idle_exit_s)
                        break
                    continue
                if self.max_frames is not None:
                    messages = messages[: self.max_frames - self.stats.received]
                self.process(messages)
                self._poll_backlog(now)
                last_activity = time.monotonic()  # idle time counts from the batch's end
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
        messages = self.consumer.batch_receive()
        if messages:
            if self.stats.first_received_at is None:
                self.stats.first_received_at = time.monotonic()
            self._last_received = messages[-1].message_id()
        return messages

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
                track_ids = self.trackers.update(meta.stream_id, meta.session_id, meta.seq, result.boxes, frame.image,
                                                   meta.capture_time)
            outgoing = build_message(frame, result, track_ids, detector.names, detector.name,
                                     detector.weights.sha256, per_frame_ms)
            self.sends.publish(message, encode_detections(outgoing))
            self.stats.detections += len(outgoing.detections)
            metrics.DETECTIONS.inc(len(outgoing.detections))
            if self.snapshots.due(meta.stream_id):
                self.snapshots.write(meta.stream_id, meta.capture_time, frame.image, outgoing.detections)
        metrics.IN_FLIGHT.set(self.sends.pending)
        if self.trackers is not None:
            self.trackers.save()
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

    def _send(self, outgoing, done) -> None:
        """Publish asynchronously; ``done(ok)`` runs when the broker answered (or the send timed out)."""
        import pulsar

        try:
            send(self.producer, outgoing, callback=lambda result, _id: done(result == pulsar.Result.Ok))
        except Exception as error:  # the producer refused at once (closed, queue gone): held like a failed send
            log.warning("publishing a detection failed: %s", error)
            done(False)

    def _apply_acks(self) -> None:
        failures = self.sends.failures
        confirmed = self.sends.apply()
        if self.sends.failures > failures:
            self.stats.send_failures += self.sends.failures - failures
            metrics.SEND_FAILURES.inc(self.sends.failures - failures)
            log.warning("the broker refused %d detections: holding their frames and retrying",
                        self.sends.failures - failures)
        if confirmed:
            self.stats.frames += confirmed
            self.stats.last_confirmed_at = self.sends.last_confirmed_at
            metrics.FRAMES.inc(confirmed)
        self._update_rate(confirmed)
        metrics.IN_FLIGHT.set(self.sends.pending)

    def _update_rate(self, confirmed: int, window_s: float = 10.0) -> None:
        now = time.monotonic()
        self._recent.append((now, confirmed))
        while self._recent and now - self._recent[0][0] > window_s:
            self._recent.popleft()
        span = now - self._recent[0][0] if len(self._recent) > 1 else 0.0
        if span > 0:
            metrics.FRAMES_PER_SECOND.set(sum(count for _, count in list(self._recent)[1:]) / span)

    def _settle(self, timeout_s: float = 30.0) -> None:
        """Publish what is pending and apply the acknowledgements it earned (held frames stay unacknowledged:
        they come back to the next run)."""
        try:
            self.producer.flush()
        except Exception as error:
            log.warning("flushing detections failed: %s", error)
        self.sends.wait(timeout_s)
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
