"""Prometheus metrics of the reader, per stream (label ``stream`` = stream id).

Served on ``settings.reader_metrics_port`` at ``settings.metrics_bind`` (0 disables the endpoint, the counters
still count).
``decode_seconds`` is CPU time of the reading thread in reading, decoding and colour conversion, so it adds up
to what a stream costs; with one decoding thread per stream nothing is hidden in other threads.
``frames_decoded`` against ``frames_read`` shows how many frames the decoder could drop undecoded.
"""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge

from core.metrics import serve  # noqa: F401  (the one /metrics endpoint, on settings.metrics_bind)

log = logging.getLogger(__name__)

FRAMES_READ = Counter("streamscope_reader_frames_read", "Frames received from the source.", ["stream"])
FRAMES_DECODED = Counter("streamscope_reader_frames_decoded", "Frames decoded (the rest were skipped undecoded).",
                         ["stream"])
FRAMES_PUBLISHED = Counter("streamscope_reader_frames_published", "Frames acknowledged by the broker.", ["stream"])
PUBLISH_ERRORS = Counter("streamscope_reader_publish_errors", "Frames the broker did not accept.", ["stream"])
RECONNECTS = Counter("streamscope_reader_reconnects", "Connections opened again after one ended.", ["stream"])
STALLS = Counter("streamscope_reader_stalls", "Reads that blocked past the stall timeout.", ["stream"])
DECODE_SECONDS = Counter(
    "streamscope_reader_decode_seconds", "CPU seconds spent decoding and converting frames.", ["stream"]
)
ENCODE_SECONDS = Counter("streamscope_reader_encode_seconds", "CPU seconds spent resizing and JPEG-encoding.",
                         ["stream"])
STREAM_LIVE = Gauge("streamscope_reader_stream_live", "1 while a connection delivers frames.", ["stream"])

