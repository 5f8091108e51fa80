"""Prometheus metrics of the aggregator (served on ``settings.aggregator_metrics_port``; 0 disables)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from aggregator.pipeline import Observer
from core.metrics import serve  # noqa: F401  (the one /metrics endpoint, on settings.metrics_bind)

MESSAGES = Counter("streamscope_aggregator_messages_total", "Detection messages received (rate() gives messages/s).")
OUTCOMES = Counter("streamscope_aggregator_message_outcomes_total", "What became of each message.", ["outcome"])
LATE = Counter("streamscope_aggregator_late_messages_total", "Messages later than window end + allowed lateness.")
DEAD_LETTERS = Counter("streamscope_aggregator_dead_letters_total", "Messages sent to the dead-letter topic.")
OPEN_WINDOWS = Gauge("streamscope_aggregator_open_windows", "Windows open in memory (per stream and window start).")
OPEN_MESSAGES = Gauge("streamscope_aggregator_open_window_messages", "Messages counted in windows still open.")
FLUSH = Histogram(
    "streamscope_aggregator_flush_seconds", "Time to write closed windows in one transaction (retries included).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
WINDOWS = Counter("streamscope_aggregator_windows_written_total", "Windows (stream, window start) written.")
STREAMS_LOST = Counter("streamscope_aggregator_streams_lost_total",
                       "Streams dropped from memory: removed from the registry, or taken over by another process.")
RETRIES = Counter("streamscope_aggregator_store_retries_total", "Postgres calls retried (server unavailable).")


class PrometheusObserver(Observer):
    def received(self, count: int) -> None:
        MESSAGES.inc(count)

    def outcomes(self, counted: int, duplicates: int, late: int, dead_letters: int) -> None:
        for name, value in (("counted", counted), ("duplicate", duplicates), ("late", late),
                            ("dead_letter", dead_letters)):
            if value:
                OUTCOMES.labels(name).inc(value)
        LATE.inc(late)
        DEAD_LETTERS.inc(dead_letters)

    def flushed(self, seconds: float, windows: int) -> None:
        FLUSH.observe(seconds)
        WINDOWS.inc(windows)

    def state(self, open_windows: int, open_messages: int) -> None:
        OPEN_WINDOWS.set(open_windows)
        OPEN_MESSAGES.set(open_messages)

    def stream_lost(self) -> None:
        STREAMS_LOST.inc()

    def retry(self) -> None:
        RETRIES.inc()

