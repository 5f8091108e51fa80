"""Helpers of the detector tests: real images (from the ultralytics wheel), JPEGs, topics."""

from __future__ import annotations

import importlib.util
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from core.settings import Settings

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def asset(name: str) -> Path:
    """A test image shipped in the ultralytics wheel (found without importing ultralytics and torch)."""
    spec = importlib.util.find_spec("ultralytics")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / name


def load_image(name: str) -> np.ndarray:
    import cv2

    return cv2.imread(str(asset(name)))


def jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    import cv2

    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return encoded.tobytes()


def shifted(image: np.ndarray, dx: int) -> np.ndarray:
    """The image moved ``dx`` pixels to the right (a slowly panning camera), same size, left edge repeated."""
    if dx <= 0:
        return image.copy()
    moved = np.empty_like(image)
    moved[:, dx:] = image[:, :-dx]
    moved[:, :dx] = image[:, :1]
    return moved


def publish_frames(settings: Settings, frames: list[tuple[int, str, int, bytes, int, int]],
                   batching: bool = True) -> None:
    """Send (stream_id, session_id, seq, jpeg, width, height) frames to the frames topic, in order."""
    from core.broker import create_producer, send
    from core.messages import FrameMeta, encode_frame

    producer = create_producer(settings, settings.frames_topic, batching=batching)
    for stream_id, session_id, seq, data, width, height in frames:
        meta = FrameMeta(stream_id, session_id, seq, T0 + timedelta(seconds=seq), width, height)
        send(producer, encode_frame(meta, data), callback=lambda *_: None)
    producer.flush()
    producer.close()


def read_all(settings: Settings, topic: str, expected: int | None = None, quiet_s: float = 0.5,
             timeout_s: float = 60.0) -> list:
    """Every message on ``topic`` (a fresh subscription from the earliest): until ``expected`` arrived and then
    ``quiet_s`` without more, or ``timeout_s``."""
    from core.broker import subscribe

    consumer = subscribe(settings, topic, f"reader-{uuid.uuid4().hex[:8]}")
    messages = []
    deadline = time.monotonic() + timeout_s
    last = time.monotonic()
    try:
        while time.monotonic() < deadline:
            try:
                message = consumer.receive(timeout_millis=200)
            except Exception:  # pulsar.Timeout
                if (expected is None or len(messages) >= expected) and time.monotonic() - last >= quiet_s:
                    break
                continue
            messages.append(message)
            consumer.acknowledge(message)
            last = time.monotonic()
    finally:
        consumer.close()
    return messages


def detections_of(messages: list) -> list:
    from core.messages import decode_detections

    return [decode_detections(message.data()) for message in messages]
