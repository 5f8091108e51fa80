"""Read many streams in one process: a worker thread per stream, bounded or continuous runs, clean stops.

Bounded runs (``duration_s``; what Airflow tasks do) read the given streams for that long, or until every one
of them ended, failed or was paused; at the end each stream goes on until the next run can take it over, at most
``reader_handover_max_s`` (:mod:`stream_reader.lease`). Continuous runs re-read the registry every
``reader_refresh_interval_s``: newly registered or resumed streams get a worker, paused or removed ones lose
theirs. ``stop()`` (SIGTERM/SIGINT) ends every session, waits for the broker to acknowledge what was sent,
and records the final health rows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.settings import Settings
from stream_reader import metrics
from stream_reader.health import HealthStore, StreamTarget
from stream_reader.publisher import FramePublisher
from stream_reader.resolve import ResolvedSource, resolve
from stream_reader.worker import StreamWorker

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StreamSummary:
    stream_id: int
    sessions: int
    published: int
    final_status: str | None


class ReaderRunner:
    def __init__(
        self,
        settings: Settings,
        stream_ids: list[int] | None = None,
        duration_s: float | None = None,
        *,
        resolver: Callable[..., ResolvedSource] = resolve,
    ):
        self.settings = settings
        self.stream_ids = list(stream_ids) if stream_ids else None
        self.duration_s = duration_s
        self.resolver = resolver
        self.store = HealthStore(settings)
        self.workers: dict[int, StreamWorker] = {}
        self._finished: list[StreamWorker] = []
        self._stop_event = threading.Event()
        self._publisher: FramePublisher | None = None
        self.skipped: dict[int, str] = {}  # named streams not read, with their status

    @property
    def continuous(self) -> bool:
        return self.duration_s is None

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> list[StreamSummary]:
        """Read until the duration passes, every stream is done (bounded runs), or ``stop()``."""
        server = metrics.serve(self.settings.reader_metrics_port, self.settings.metrics_bind)
        self._publisher = FramePublisher(self.settings)
        deadline = None if self.duration_s is None else time.monotonic() + self.duration_s
        try:
            self._sync(first=True)
            next_refresh = time.monotonic() + self.settings.reader_refresh_interval_s
            handing_over = False
            while not self._stop_event.is_set():
                now = time.monotonic()
                if deadline is not None and now >= deadline and not handing_over:
                    # Each stream goes on until the next run has its capture open (stream_reader.lease).
                    handing_over = True
                    for worker in self.workers.values():
                        worker.hand_over()
                if deadline is not None and now >= deadline + self.settings.reader_handover_max_s + 5:
                    break
                if not self.continuous and not any(w.is_alive() for w in self.workers.values()):
                    break  # every named stream ended, failed or was paused
                if self.continuous and now >= next_refresh:
                    self._sync()
                    next_refresh = now + self.settings.reader_refresh_interval_s
                wait = 0.5 if deadline is None or handing_over else min(0.5, max(0.0, deadline - now))
                self._stop_event.wait(wait)
        finally:
            self._shutdown()
            if server is not None:
                server.shutdown()
                server.server_close()
        return self.summary()

    def summary(self) -> list[StreamSummary]:
        workers = self._finished + list(self.workers.values())
        totals: dict[int, StreamSummary] = {}
        for worker in workers:
            previous = totals.get(worker.target.id)
            totals[worker.target.id] = StreamSummary(
                worker.target.id,
                worker.sessions + (previous.sessions if previous else 0),
                worker.published + (previous.published if previous else 0),
                worker.final_status,
            )
        return [totals[key] for key in sorted(totals)]

    # ---------------------------------------------------------------------------------------------------
    def _sync(self, first: bool = False) -> None:
        """Start workers for active streams that have none; stop those whose stream left the active set."""
        try:
            targets = self.store.targets(self.stream_ids)
            if first and self.stream_ids:
                known = {t.id: t for t in self.store.targets(self.stream_ids, active_only=False)}
                for stream_id in self.stream_ids:
                    if stream_id not in known:
                        self.skipped[stream_id] = "no such stream"
                    elif stream_id not in {t.id for t in targets}:
                        self.skipped[stream_id] = known[stream_id].status
        except Exception as error:  # the database is down: keep what runs, try again at the next refresh
            if first:
                raise  # nothing runs yet: say so (a failed Airflow task) rather than read nothing quietly
            log.warning("cannot read the stream registry: %s", str(error).splitlines()[0][:300])
            return
        active = {target.id: target for target in targets}
        for stream_id, target in active.items():
            worker = self.workers.get(stream_id)
            if worker is None or not worker.is_alive():
                if worker is not None:
                    self._finished.append(worker)
                self._start(target)
        for stream_id, worker in list(self.workers.items()):
            if stream_id not in active and worker.is_alive():
                log.info("stream %s is no longer active: stopping its reader", stream_id)
                worker.stop()

    def _start(self, target: StreamTarget) -> None:
        assert self._publisher is not None
        worker = StreamWorker(target, self.settings, self._publisher, self.store, resolver=self.resolver)
        self.workers[target.id] = worker
        log.info("reading stream %s (%s) at %g frames/s", target.id, target.url, target.fps)
        worker.start()

    def _shutdown(self) -> None:
        for worker in self.workers.values():
            worker.stop()
        # A worker notices the stop between two reads; a read blocks at most the stall timeout, a resolution
        # at most the resolve timeout; then it drains its frames and writes its last row.
        grace = self.settings.resolve_timeout_s + self.settings.reader_open_timeout_s + 60
        deadline = time.monotonic() + grace
        for worker in self.workers.values():
            worker.join(max(0.1, deadline - time.monotonic()))
            if worker.is_alive():
                log.warning("stream %s: reader did not stop within %.0f s", worker.target.id, grace)
        if self._publisher is not None:
            self._publisher.close()
