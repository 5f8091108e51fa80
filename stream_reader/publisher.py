"""Publish sampled frames to the frames topic: asynchronous sends, counted when the broker acknowledges.

One producer per process for all streams (key-based batching keeps each batch to one stream). A session
counts a frame as published only in the send callback with ``Result.Ok``; ``drain`` waits until every frame
it sent has been answered, so the session's final health row has the true count.
"""

from __future__ import annotations

import logging
import threading
import time

from core.broker import create_producer, send
from core.messages import FrameMeta, encode_frame
from core.settings import Settings
from stream_reader import metrics

log = logging.getLogger(__name__)


class PublishCounter:
    """Per-session counts, updated from the Pulsar client's callback thread."""

    def __init__(self, stream_id: int):
        self.stream_label = str(stream_id)
        self._lock = threading.Condition()
        self.sent = 0
        self.published = 0
        self.failed = 0
        self.last_error: str | None = None

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self.sent - self.published - self.failed

    def _sent(self) -> None:
        with self._lock:
            self.sent += 1

    def _answered(self, ok: bool, error: str | None) -> None:
        with self._lock:
            if ok:
                self.published += 1
            else:
                self.failed += 1
                self.last_error = error
            self._lock.notify_all()
        if ok:
            metrics.FRAMES_PUBLISHED.labels(self.stream_label).inc()
        else:
            metrics.PUBLISH_ERRORS.labels(self.stream_label).inc()

    def wait_answered(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self.sent > self.published + self.failed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
        return True


class FramePublisher:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.topic = settings.frames_topic
        self._producer = create_producer(settings, settings.frames_topic, name=None)
        self._closed = False

    def publish(self, meta: FrameMeta, jpeg: bytes, counter: PublishCounter) -> None:
        import pulsar

        def on_answer(result, _message_id) -> None:
            ok = result == pulsar.Result.Ok
            counter._answered(ok, None if ok else f"publish failed: {result}")

        counter._sent()
        try:
            send(self._producer, encode_frame(meta, jpeg), callback=on_answer)
        except Exception as error:  # e.g. the producer is closed or the queue rejected it
            counter._answered(False, f"publish failed: {error}")

    def drain(self, counter: PublishCounter, timeout_s: float = 30.0) -> bool:
        """Flush the producer and wait until all of ``counter``'s frames are acknowledged (or failed)."""
        try:
            self._producer.flush()
        except Exception as error:
            log.warning("flushing the frames producer failed: %s", error)
        return counter.wait_answered(timeout_s)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._producer.flush()
            self._producer.close()
        except Exception as error:
            log.warning("closing the frames producer failed: %s", error)
