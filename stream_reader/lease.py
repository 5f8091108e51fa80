"""At most one reader run publishes a stream's frames, and consecutive scheduled runs hand over with no gap.

Under the ``stream_reader`` DAG each run reads for a bounded time. Without coordination the next run started a
new session (tracking restarted in the detector) and nothing was read between one run's end and the next one's
first frame (about 30 s of every 5 minutes). A lease per stream in Postgres (``reader_leases``) fixes both:

- a run **holds** the lease while it publishes and renews it every ``ttl / 3``; a run that finds it held by
  another registers as the **successor**, opens its capture, and keeps only its last samples until it holds
  the lease;
- at the end of its duration the holder keeps publishing until the successor says its capture delivers
  (``successor_ready``), at most ``reader_handover_max_s``, then drains what it sent and **releases** the lease
  with its frames' session id and next sequence number; the successor takes it within a frame interval and
  continues that session, so the detector keeps one tracking session and the aggregator sees one sequence;
- a run that dies stops renewing: after ``reader_lease_ttl_s`` another run takes the lease and starts a new
  session (what the killed run sent unacknowledged is not known, so its sequence is not continued).

Database time (``now()``) decides expiry, so runs on hosts with skewed clocks agree. A run that cannot reach the
database keeps its lease until it lapses and stops publishing then (it cannot renew): at most one publisher, at
the price of a gap during a database outage longer than the ttl.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from core.db.engine import session_scope
from core.db.models import ReaderLease
from core.settings import Settings

log = logging.getLogger(__name__)

# A waiting run asks for the lease this often (the gap at a handover is at most about this long).
ACQUIRE_POLL_S = 0.5
WARN_EVERY_S = 10.0  # the most often one run logs the same database trouble


@dataclass(frozen=True, slots=True)
class Continuation:
    """Where a run's frames ended: the holder's position as it goes, what it releases the lease with, and what
    the next run continues (``session_id`` from ``next_seq`` on)."""

    session_id: str
    next_seq: int
    last_media_s: float | None = None  # the source time of its last frame (see Connection: no frame twice)
    last_captured_at: datetime | None = None  # its capture time (this run's frames come after it)


@dataclass(frozen=True, slots=True)
class Acquired:
    continuation: Continuation | None  # None: a new session (first run, or the previous run died)


@dataclass(frozen=True, slots=True)
class HolderView:
    """What the holder learns when it renews."""

    held: bool
    successor_waiting: bool = False
    successor_ready: bool = False


class LeaseStore:
    """The SQL of ``reader_leases``; each call is one short transaction holding the row's lock."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.ttl = timedelta(seconds=settings.reader_lease_ttl_s)
        # A released session is continued only by a run that takes over soon after (no stale tracks revived).
        self.continue_within = timedelta(seconds=settings.reader_lease_ttl_s + settings.reader_handover_max_s)

    def acquire(self, stream_id: int, holder: str, *, ready: bool) -> Acquired | None:
        """Take the lease if nobody holds it (or the holder's lapsed); else register as the successor, saying
        whether this run's capture already delivers frames, and return None."""
        with session_scope(self.settings) as session:
            session.execute(insert(ReaderLease).values(stream_id=stream_id).on_conflict_do_nothing())
            lease, now = _locked(session, stream_id)
            assert lease is not None
            if lease.holder not in (None, holder) and lease.expires_at is not None and lease.expires_at > now:
                stale = lease.successor_seen_at is None or lease.successor_seen_at < now - self.ttl
                if lease.successor in (None, holder) or stale:
                    lease.successor, lease.successor_seen_at, lease.successor_ready = holder, now, ready
                return None
            continuation = None
            if (lease.holder is None and lease.session_id is not None and lease.next_seq is not None
                    and lease.released_at is not None and now - lease.released_at <= self.continue_within):
                continuation = Continuation(lease.session_id, lease.next_seq, lease.last_media_s,
                                            lease.last_captured_at)
            elif lease.holder not in (None, holder):
                log.warning("stream %s: the reader run holding it (%s) stopped renewing; taking over with a new "
                            "session", stream_id, lease.holder)
            lease.holder, lease.expires_at, lease.released_at = holder, now + self.ttl, None
            if lease.successor == holder:
                lease.successor, lease.successor_seen_at, lease.successor_ready = None, None, False
            return Acquired(continuation)

    def renew(self, stream_id: int, holder: str) -> HolderView:
        """Extend the lease, unless another run holds it now."""
        with session_scope(self.settings) as session:
            lease, now = _locked(session, stream_id)
            if lease is None or lease.holder != holder:
                return HolderView(held=False)
            lease.expires_at = now + self.ttl
            waiting = (lease.successor is not None and lease.successor_seen_at is not None
                       and lease.successor_seen_at >= now - self.ttl)
            return HolderView(True, waiting, waiting and lease.successor_ready)

    def release(self, stream_id: int, holder: str, position: Continuation | None) -> bool:
        """Give the lease up, leaving where the frames ended (None: nothing published) for the next run; False if
        it was not held."""
        with session_scope(self.settings) as session:
            lease, now = _locked(session, stream_id)
            if lease is None or lease.holder != holder:
                return False
            lease.holder, lease.expires_at, lease.released_at = None, None, now
            lease.session_id = position.session_id if position else None
            lease.next_seq = position.next_seq if position else None
            lease.last_media_s = position.last_media_s if position else None
            lease.last_captured_at = position.last_captured_at if position else None
            return True


def _locked(session, stream_id: int) -> tuple[ReaderLease | None, datetime]:
    """The stream's lease row, locked for this transaction, and the database's time."""
    lease = session.scalar(select(ReaderLease).where(ReaderLease.stream_id == stream_id).with_for_update())
    return lease, session.scalar(select(func.now()))


class StreamLease:
    """One reader run's side of a stream's lease: when to ask, renew, publish, stop and release.

    Called from the stream's worker thread only (no locking); :meth:`hand_over` may come from another thread and
    only sets flags. Database errors count as "not held" for a waiting run and leave a holder publishing until
    its lease lapses (measured on this process's clock from the last successful renewal).
    """

    def __init__(self, store: LeaseStore, stream_id: int, settings: Settings, holder: str | None = None):
        self.store = store
        self.stream_id = stream_id
        self.holder = holder or f"{uuid.uuid4()}"
        self.ttl_s = settings.reader_lease_ttl_s
        self.handover_max_s = settings.reader_handover_max_s
        self.held = False
        self.continuation: Continuation | None = None
        self.handing_over_since: float | None = None
        self.handed_over = False
        self._renewed_at = 0.0
        self._next_ask = 0.0
        self._ready_said = False
        self._view = HolderView(held=False)
        self._warned_at = float("-inf")

    def _warn(self, what: str, error: Exception) -> None:
        """A database error, logged at most every ``WARN_EVERY_S`` (a run asks every frame while Postgres is down)."""
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning("stream %s: lease %s: %s", self.stream_id, what, str(error).splitlines()[0][:200])

    # ------------------------------------------------------------------------------------------- control
    def hand_over(self) -> None:
        """This run's duration is over: stop once the successor is ready (or there is none)."""
        if self.handing_over_since is None:
            self.handing_over_since = time.monotonic()

    def announce(self) -> None:
        """At the start of a session, before the capture opens: take the lease if free, else queue as successor
        (not ready yet), so that the holder waits for this run instead of ending with a gap."""
        self._ask(time.monotonic(), ready=False)

    # ------------------------------------------------------------------------------------------ per frame
    def admit(self, now: float) -> bool:
        """Whether this run may publish its next frame."""
        if not self.held:
            if now >= self._next_ask or not self._ready_said:
                self._ask(now, ready=True)
            return self.held
        renew_every = ACQUIRE_POLL_S if self.handing_over_since is not None else self.ttl_s / 3
        if now - self._renewed_at >= renew_every:
            try:
                self._view = self.store.renew(self.stream_id, self.holder)
            except Exception as error:
                self._warn("not renewed", error)
            else:
                self._renewed_at = now
                if not self._view.held:
                    log.warning("stream %s: another reader run took the lease; this one stops publishing",
                                self.stream_id)
                    self.held = False
                    return False
        if now - self._renewed_at >= self.ttl_s:  # lapsed on our clock: another run may hold it by now
            self.held = False
        return self.held

    def should_end(self, now: float) -> bool:
        """Once handing over: end now if not holding, if no successor waits, once it is ready, or at the cap."""
        if self.handing_over_since is None:
            return False
        if not self.held:
            return True
        view = self._view
        if not view.successor_waiting or view.successor_ready:
            return True
        return now - self.handing_over_since >= self.handover_max_s

    def release(self, position: Continuation | None) -> None:
        """After the run's frames are acknowledged by the broker: leave the lease to the successor, with where
        they ended (None: this run published nothing, no session to continue)."""
        if not self.held:
            return
        self.held = False
        try:
            released = self.store.release(self.stream_id, self.holder, position)
            # The next run reads the stream from here on (and owns its status), if one was waiting.
            self.handed_over = released and self._view.successor_waiting
        except Exception as error:  # it lapses after the ttl; the successor then starts a new session
            self._warn("not released", error)

    # ---------------------------------------------------------------------------------------------------
    def _ask(self, now: float, *, ready: bool) -> None:
        self._next_ask = now + ACQUIRE_POLL_S
        try:
            acquired = self.store.acquire(self.stream_id, self.holder, ready=ready)
        except Exception as error:
            self._warn("not asked for", error)
            return
        self._ready_said = ready
        if acquired is not None:
            self.held = True
            self.continuation = acquired.continuation
            self._renewed_at = now
            self._view = HolderView(held=True)
