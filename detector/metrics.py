"""Prometheus metrics of the detector (served on ``settings.detector_metrics_port``; 0 disables)."""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge, Histogram, Info, start_http_server

log = logging.getLogger(__name__)

FRAMES = Counter("streamscope_detector_frames", "Frames processed (a detection message published and acknowledged).")
DETECTIONS = Counter("streamscope_detector_detections", "Objects detected.")
DEAD_LETTERS = Counter("streamscope_detector_dead_letters", "Frames sent to the dead-letter topic.", ["reason"])
SEND_FAILURES = Counter("streamscope_detector_send_failures", "Detection messages the broker did not confirm.")
FRAMES_PER_SECOND = Gauge("streamscope_detector_frames_per_second", "Frames per second over the last ~10 s.")
BATCH_SIZE = Histogram(
    "streamscope_detector_batch_size", "Frames per inference batch.", buckets=(1, 2, 4, 8, 16, 32, 64, 128)
)
INFERENCE_MS = Histogram(
    "streamscope_detector_inference_ms", "Model time per frame (batch time / batch size), milliseconds.",
    buckets=(2, 5, 10, 20, 40, 60, 80, 120, 200, 400, 1000),
)
BATCH_SECONDS = Histogram("streamscope_detector_batch_seconds", "Model time per batch, seconds.")
BACKLOG = Gauge(
    "streamscope_detector_backlog_entries",
    "Broker entries (message batches) on the frames topic after the last one received: the queue backlog.",
)
IN_FLIGHT = Gauge("streamscope_detector_in_flight", "Frames received whose detection message is not confirmed yet.")
MODEL = Info(
    "streamscope_detector_model",
    "What the detector runs: backend, precision, image size, threads, device, model and weights hash.",
)
STREAMS_TRACKED = Gauge("streamscope_detector_streams_tracked", "Streams with live tracker state.")


def serve(port: int) -> None:
    """Expose the metrics on 127.0.0.1:``port`` (0 = off)."""
    if port:
        start_http_server(port, addr="127.0.0.1")
        log.info("metrics on http://127.0.0.1:%d/metrics", port)
