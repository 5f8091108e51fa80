"""Prometheus metrics of the reader, per stream (label ``stream`` = stream id).

Served on ``settings.reader_metrics_port`` (127.0.0.1; 0 disables the endpoint, the counters still count).
``decode_seconds`` is CPU time of the reading thread in reading, decoding and colour conversion, so it adds up
to what a stream costs; with one decoding thread per stream nothing is hidden in other threads.
``frames_decoded`` against ``frames_read`` shows how many frames the decoder could drop undecoded.
"""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge

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


def serve(port: int):
    """Start the /metrics endpoint on 127.0.0.1:``port``; returns the server (``shutdown()`` it) or None."""
    if not port:
        return None
    from prometheus_client import start_http_server

    try:
        server, _thread = start_http_server(port, addr="127.0.0.1")
    except OSError as error:  # a busy port must not stop the reader
        log.warning("metrics endpoint not started on 127.0.0.1:%d: %s", port, error)
        return None
    return server
