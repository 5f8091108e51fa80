"""One thread per stream: sessions one after another, with backoff between them; the status they leave.

What ends a session and what follows is :mod:`stream_reader.policy`; one session's I/O is
:class:`stream_reader.connection.Connection`. Nothing a stream does may stop another: every error is caught
here, recorded, and retried.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from core.backoff import Backoff
from core.db.models import ACTIVE_STATUSES, StreamStatus
from core.settings import Settings
from stream_reader import metrics, policy
from stream_reader.connection import Connection
from stream_reader.health import HealthStore, SessionHealth, StreamTarget, utcnow
from stream_reader.lease import LeaseStore, StreamLease
from stream_reader.policy import Outcome, StreamMemory
from stream_reader.publisher import FramePublisher, PublishCounter
from stream_reader.resolve import ResolvedSource, resolve

log = logging.getLogger(__name__)


class StreamWorker(threading.Thread):
    def __init__(
        self,
        target: StreamTarget,
        settings: Settings,
        publisher: FramePublisher,
        store: HealthStore,
        *,
        resolver: Callable[..., ResolvedSource] = resolve,
    ):
        super().__init__(name=f"reader-{target.id}", daemon=True)
        self.target = target
        self.settings = settings
        self.publisher = publisher
        self.store = store
        self.resolver = resolver
        self.label = str(target.id)
        self._stop_event = threading.Event()
        self.memory = StreamMemory(target_is_live=target.is_live)
        self.lease = StreamLease(LeaseStore(settings), target.id, settings)
        self.connection = Connection(target, settings, publisher, store, resolver=resolver,
                                     stop_event=self._stop_event, store_call=self.store_call, memory=self.memory,
                                     lease=self.lease)
        self.published = 0
        self.sessions = 0
        self.final_status: str | None = None
        self._db_errors = 0

    # ------------------------------------------------------------------------------------------- control
    def stop(self) -> None:
        self._stop_event.set()

    def hand_over(self) -> None:
        """The run's duration is over: end once the next run can take the stream over (see stream_reader.lease)."""
        self.lease.hand_over()

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set()

    def run(self) -> None:
        try:
            self._loop()
        except Exception:  # the loop catches everything it expects; this is the last guard of the thread
            log.exception("stream %s: reader thread failed", self.label)
        finally:
            self._release()  # ended, failed, paused or removed: nothing left to hand over but the lease
            metrics.STREAM_LIVE.labels(self.label).set(0)

    def _release(self) -> None:
        """Leave the stream's lease, with where this run's frames ended (each session drained its sends first).
        Held across this run's reconnects: a new connection of the same run starts a new session."""
        self.lease.release(self.connection.position)

    # ---------------------------------------------------------------------------------------------- loop
    def _loop(self) -> None:
        s = self.settings
        backoff = Backoff(s.reader_backoff_initial_s, s.reader_backoff_max_s, s.reader_backoff_jitter)
        reconnects = 0
        last_error: str | None = None  # why the latest connection ended, until a new one delivers frames
        while not self.stopping:
            delivered, outcome = self._session(reconnects)
            self.sessions += 1
            step = policy.after_session(outcome)
            if step == "end":
                change = self.store_call(self.store.set_status, self.target.id, StreamStatus.ENDED, outcome.reason)
                self.final_status = change.status if change else StreamStatus.ENDED.value
                log.info("stream %s ended: %s", self.label, outcome.reason)
                return
            if step == "stop":
                last_error = None if delivered else last_error
                break
            if self.lease.handing_over_since is not None:
                break  # the run's duration is over: no new connection
            if step == "leave":  # paused or removed by a person
                self.final_status = outcome.kind
                return
            if delivered:
                backoff.reset()
            last_error = outcome.reason
            change = self.store_call(
                self.store.set_status, self.target.id, StreamStatus.RECONNECTING, outcome.reason,
                count_failure=not delivered,
            )
            if change is not None and change.status not in ACTIVE_STATUSES:
                self.final_status = change.status  # failed too often, paused, or removed
                log.warning("stream %s: %s, not reading it any more", self.label, change.status or "removed")
                return
            delay = backoff.next_delay()
            log.info("stream %s: %s; reconnecting in %.1f s", self.label, outcome.reason, delay)
            if self._stop_event.wait(delay):
                break
            reconnects += 1
            metrics.RECONNECTS.labels(self.label).inc()
        self._release()
        if self.lease.handed_over:
            log.info("stream %s handed over to the next reader run", self.label)
            return  # the next run reads the stream now and owns its status
        # No reader runs any more: neither "live" nor "reconnecting" would be true; keep the last error visible.
        reason = "reader stopped" + (f"; last error: {last_error}" if last_error else "")
        self.store_call(self.store.set_status, self.target.id, StreamStatus.PENDING, reason,
                        only_from={StreamStatus.LIVE.value, StreamStatus.RECONNECTING.value})

    def _session(self, reconnects: int) -> tuple[bool, Outcome]:
        """One connection attempt, recorded as one ``reader_sessions`` row. Returns (delivered, outcome)."""
        health = SessionHealth(id=str(uuid.uuid4()), stream_id=self.target.id, started_at=utcnow(),
                               reconnects=reconnects)
        counter = PublishCounter(self.target.id)
        self.store_call(self.store.open_session, health)
        self.lease.announce()
        try:
            outcome = self.connection.run(health, counter, time.monotonic())
        except Exception as error:  # an unexpected library error must not kill the thread
            log.exception("stream %s: unexpected error", self.label)
            outcome = Outcome("error", f"unexpected error: {error!r}"[:500])
        if counter.sent:
            self.publisher.drain(counter)
        self.published += counter.published
        health.frames_published = counter.published
        if counter.last_error:
            health.last_error = counter.last_error
        if outcome.kind not in ("stopped", "ended") and outcome.reason:
            health.last_error = outcome.reason
        health.ended_at = utcnow()
        health.end_reason = outcome.kind
        self.store_call(self.store.write_session, health)
        return counter.sent > 0, outcome

    # ------------------------------------------------------------------------------------------- database
    def store_call(self, method, *args, default=None, **kwargs):
        """Call a HealthStore method; a database error is logged (rate-limited) and ``default`` returned."""
        try:
            result = method(*args, **kwargs)
        except Exception as error:
            self._db_errors += 1
            if self._db_errors in (1, 10, 100) or self._db_errors % 1000 == 0:
                log.warning("stream %s: health not recorded (%d errors so far): %s", self.label,
                            self._db_errors, str(error).splitlines()[0][:300])
            return default
        return result
