"""OpenCV capture through its FFmpeg backend, with open/read timeouts, started at the live edge.

Timeouts must be passed when opening (the setters and getters for them do nothing useful afterwards); without
them a frozen stream blocks a read for 30 s. ``live_start_index;-1`` starts a live HLS playlist at its newest
segment instead of replaying the whole window. One decoding thread per stream costs the least CPU per frame
(FFmpeg's frame threads add synchronisation work); streams are read in parallel anyway.

``grab()`` decodes every frame (H.264 cannot skip frames that later ones refer to) but ``retrieve()`` — the
colour conversion to BGR — is paid only for frames that are kept.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import cv2
import numpy as np

CAPTURE_OPTIONS = {"live_start_index": "-1", "rtsp_transport": "tcp"}


def _install_capture_options() -> None:
    """Add our FFmpeg demuxer options to OPENCV_FFMPEG_CAPTURE_OPTIONS, keeping any set by the operator."""
    current = os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS", "")
    pairs = [pair for pair in current.split("|") if pair]
    keys = {pair.split(";", 1)[0] for pair in pairs}
    pairs += [f"{key};{value}" for key, value in CAPTURE_OPTIONS.items() if key not in keys]
    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = "|".join(pairs)


_install_capture_options()


class CaptureError(RuntimeError):
    """The source could not be opened."""


@dataclass(frozen=True, slots=True)
class Grab:
    """The outcome of one ``grab()``: whether a frame came, how long the call blocked, its stream time."""

    ok: bool
    blocked_s: float
    media_s: float | None


class Capture:
    """One connection to a source. Not thread-safe: one reading thread per capture."""

    def __init__(self, url: str, *, open_timeout_s: float, read_timeout_s: float, threads: int = 1):
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(read_timeout_s * 1000),
        ]  # fmt: skip
        if threads > 0:
            params += [cv2.CAP_PROP_N_THREADS, threads]
        self.read_timeout_s = read_timeout_s
        self._cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
        if not self._cap.isOpened():
            self._cap.release()
            raise CaptureError(f"OpenCV/FFmpeg could not open the stream within {open_timeout_s:g} s")

    @property
    def width(self) -> int:
        return int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))

    @property
    def height(self) -> int:
        return int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))

    @property
    def fps(self) -> float | None:
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        return float(fps) if 0 < fps < 1000 else None

    @property
    def bitrate(self) -> int | None:
        """Bits per second when FFmpeg knows it (OpenCV reports kbit/s; HLS usually says nothing)."""
        kbps = self._cap.get(cv2.CAP_PROP_BITRATE)
        return int(kbps * 1000) if kbps and kbps > 0 else None

    def grab(self) -> Grab:
        started = time.monotonic()
        ok = bool(self._cap.grab())
        blocked = time.monotonic() - started
        media = self._cap.get(cv2.CAP_PROP_POS_MSEC) if ok else 0.0
        return Grab(ok, blocked, media / 1000.0 if media and media > 0 else None)

    def retrieve(self) -> np.ndarray | None:
        ok, image = self._cap.retrieve()
        return image if ok and image is not None and image.size else None

    def release(self) -> None:
        self._cap.release()

    def __enter__(self) -> Capture:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def encode_jpeg(image: np.ndarray, max_width: int, quality: int) -> tuple[bytes, int, int]:
    """Resize a BGR image down to ``max_width`` (keeping its aspect) and JPEG-encode it."""
    height, width = image.shape[:2]
    if width > max_width:
        new_height = max(1, round(height * max_width / width))
        image = cv2.resize(image, (max_width, new_height), interpolation=cv2.INTER_AREA)
        height, width = new_height, max_width
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes(), width, height
