"""Capture through FFmpeg's libraries (PyAV), with open/read timeouts, started at the live edge, decoding only
the frames that lead to a kept one.

Why PyAV and not OpenCV's ``VideoCapture``: ``grab()`` decodes every frame and lets nobody tell FFmpeg's decoder
otherwise (codec options in ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` reach the demuxer only; measured, still 30 frames/s
decoded). Here the reader reads packets, and while :class:`stream_reader.sampling.KeyframeGate` says no frame
before the next keyframe is wanted, the decoder runs with ``skip_frame=NONKEY``: it drops those frames without
decoding them and stays consistent (it still sees every packet). One decoding thread per stream costs the least
CPU per frame (FFmpeg's frame threads add synchronisation work); streams are read in parallel anyway.

Timeouts apply to opening and to every read (FFmpeg's interrupt callback); without them a frozen stream blocks
for good. ``live_start_index=-1`` starts a live HLS playlist at its newest segment instead of replaying the
whole window. A read that times out or reaches the end returns ``ok=False`` with how long it blocked: the
caller tells a stall from an end by that time (FFmpeg's HLS demuxer reports a timed-out live playlist as its
end).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import av
import cv2
import numpy as np

CAPTURE_OPTIONS = {"live_start_index": "-1", "rtsp_transport": "tcp"}


class CaptureError(RuntimeError):
    """The source could not be opened."""


@dataclass(frozen=True, slots=True)
class Packet:
    """The outcome of one read: whether a packet came, how long the call blocked, its stream time (s)."""

    ok: bool
    blocked_s: float
    media_s: float | None = None
    keyframe: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    """A decoded picture; colour conversion (:meth:`image`) is paid only for the frames that are kept."""

    media_s: float | None
    frame: av.VideoFrame

    def image(self) -> np.ndarray:
        """The picture as BGR (what OpenCV, the JPEG encoder and the detector expect)."""
        return self.frame.to_ndarray(format="bgr24")


class Capture:
    """One connection to a source. Not thread-safe: one reading thread per capture."""

    def __init__(self, url: str, *, open_timeout_s: float, read_timeout_s: float, threads: int = 1,
                 headers: Mapping[str, str] | None = None):
        """``headers``: HTTP headers to send (yt-dlp's for the chosen format), on the playlist and every segment."""
        self.read_timeout_s = read_timeout_s
        options = dict(CAPTURE_OPTIONS)
        if headers and url.lower().startswith(("http://", "https://")):
            options["headers"] = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        try:
            self._container = av.open(url, options=options, timeout=(open_timeout_s, read_timeout_s))
        except (av.FFmpegError, OSError) as error:
            why = f"no answer within {open_timeout_s:g} s" if isinstance(error, av.error.ExitError) else str(error)
            raise CaptureError(f"FFmpeg could not open the stream: {why}") from None
        if not self._container.streams.video:
            self._container.close()
            raise CaptureError("the source has no video stream")
        self._stream = self._container.streams.video[0]
        self._codec = self._stream.codec_context
        self._codec.thread_count = threads  # 0: FFmpeg's choice
        self._time_base = float(self._stream.time_base) if self._stream.time_base else None
        self._packets = self._container.demux(self._stream)
        self._packet: av.Packet | None = None
        self._skipping = False

    @property
    def width(self) -> int:
        return int(self._codec.width or 0)

    @property
    def height(self) -> int:
        return int(self._codec.height or 0)

    @property
    def fps(self) -> float | None:
        rate = self._stream.average_rate or self._stream.guessed_rate
        return float(rate) if rate and 0 < rate < 1000 else None

    @property
    def bitrate(self) -> int | None:
        """Bits per second when FFmpeg knows it (HLS usually says nothing)."""
        bits = self._stream.bit_rate or self._container.bit_rate
        return int(bits) if bits and bits > 0 else None

    def read(self) -> Packet:
        """The next video packet, not decoded yet."""
        started = time.monotonic()
        try:
            while True:
                packet = next(self._packets)
                if packet.size:  # not one of the empty packets PyAV adds at the end to flush the decoder
                    break
        except (StopIteration, EOFError):
            return Packet(False, time.monotonic() - started)
        except (av.FFmpegError, OSError) as error:
            return Packet(False, time.monotonic() - started, error=str(error))
        self._packet = packet
        media_s = self._seconds(packet.pts if packet.pts is not None else packet.dts)
        return Packet(True, time.monotonic() - started, media_s, packet.is_keyframe)

    def decode(self, *, skip: bool = False) -> list[DecodedFrame]:
        """Feed the packet just read to the decoder; ``skip`` lets it drop non-key frames undecoded."""
        if self._packet is None:
            return []
        if skip != self._skipping:
            self._codec.skip_frame = "NONKEY" if skip else "DEFAULT"
            self._skipping = skip
        packet, self._packet = self._packet, None
        try:
            frames = self._codec.decode(packet)
        except av.FFmpegError:  # a damaged packet: its frame is lost, the next keyframe repairs the picture
            return []
        return [DecodedFrame(self._seconds(frame.pts), frame) for frame in frames]

    def _seconds(self, pts: int | None) -> float | None:
        return pts * self._time_base if pts is not None and self._time_base else None

    def release(self) -> None:
        self._container.close()

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
