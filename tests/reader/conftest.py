"""Helpers for the reader's tests: settings on a unique topic, streams, a runner in a thread, the frames read."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
import pytest

from core import registry
from core.broker import subscribe
from core.db.engine import session_scope
from core.db.models import ReaderSession, Stream
from core.messages import Frame, decode_frame
from core.settings import Settings
from core.source_policy import SourcePolicy
from stream_reader.runner import ReaderRunner, StreamSummary


@pytest.fixture
def reader_settings(settings: Settings, unique_topic: str, clean_tables) -> Settings:
    """The shared runtime, a topic of the test's own, short timeouts so that faults show within seconds."""
    return settings.model_copy(update=dict(
        frames_topic=unique_topic,
        reader_metrics_port=0,
        reader_read_timeout_s=3.0,
        reader_open_timeout_s=5.0,
        reader_backoff_initial_s=0.5,
        reader_backoff_max_s=1.0,
        reader_health_interval_s=1.0,
        reader_refresh_interval_s=1.0,
        resolve_timeout_s=5.0,
        max_failed_sessions=20,
    ))


def add_stream(settings: Settings, url: str, fps: float, name: str | None = None) -> int:
    with session_scope(settings) as session:
        return registry.register(session, url, name=name, fps=fps, check=False,
                                 policy=SourcePolicy(allow_local=True)).id  # test streams are on 127.0.0.1


def stream_row(settings: Settings, stream_id: int) -> Stream | None:
    with session_scope(settings) as session:
        return session.get(Stream, stream_id)


def sessions_of(settings: Settings, stream_id: int) -> list[ReaderSession]:
    with session_scope(settings) as session:
        return list(session.query(ReaderSession).filter_by(stream_id=stream_id).order_by(ReaderSession.started_at))


def wait_until(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class FrameCollector:
    """Receives the test topic's frames in a background thread, as the detector would."""

    settings: Settings
    frames: list[Frame] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._consumer = subscribe(self.settings, self.settings.frames_topic, "reader-test")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                message = self._consumer.receive(timeout_millis=200)
            except Exception:  # pulsar.Timeout
                continue
            frame = decode_frame(message.properties(), message.event_timestamp(), message.data())
            with self._lock:
                self.frames.append(frame)
                self.arrivals.append(time.monotonic())
            self._consumer.acknowledge(message)

    def of(self, stream_id: int) -> list[Frame]:
        with self._lock:
            return [f for f in self.frames if f.meta.stream_id == stream_id]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._consumer.close()


@pytest.fixture
def collector(reader_settings):
    collecting = FrameCollector(reader_settings)
    yield collecting
    collecting.close()


class RunningReader:
    """A ReaderRunner in a thread of the test process (as `streamscope reader` runs it in its main thread)."""

    def __init__(self, settings: Settings, stream_ids: list[int] | None = None, duration_s: float | None = None,
                 **kwargs):
        self.runner = ReaderRunner(settings, stream_ids, duration_s, **kwargs)
        self.result: list[StreamSummary] | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.result = self.runner.run()
        except BaseException as error:
            self.error = error

    def stop(self, timeout: float = 60) -> list[StreamSummary]:
        self.runner.stop()
        return self.join(timeout)

    def join(self, timeout: float = 60) -> list[StreamSummary]:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the reader did not stop"
        assert self.error is None, self.error
        return self.result or []


def decode(frame: Frame) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "the payload is not a decodable JPEG"
    return image
