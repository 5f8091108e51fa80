"""Tracker state that outlives the detector process, so track ids stay continuous through a restart.

A restarted detector (or another detector process that Key_Shared hands the stream to) would otherwise start a
new tracker in the middle of a session, and every object in view would get a second id: the aggregator's unique
counts would double for them. So after each batch the detector saves each stream's tracker (its tracks' Kalman
state, ids and the project's confirmation counts) to ``detector_trackers``, one row per stream, and a tracker that
starts in the middle of a session continues from the saved one when it belongs to the same session and is recent
(the frame follows the saved one by at most ``track_buffer`` frames, the horizon over which ultralytics itself keeps
a lost track).

Unacknowledged frames come back after a crash; the saved state may already include some of them (it is saved
before their acknowledgements arrive). Those frames are behind the tracker, so, like any redelivery, they get no
track ids; their detections were published before (the aggregator keeps the first copy), so no count changes.

The state is JSON, written best-effort (a Postgres outage never stops detection: the detector then restarts its
tracker like before) and tied to the ultralytics version that wrote it, since it holds that library's objects'
attributes.
"""

from __future__ import annotations

import collections
import itertools
import logging
import time
from datetime import datetime
from typing import Any

import numpy as np

from core.settings import Settings

log = logging.getLogger(__name__)

LAYOUT = 1
_TRACKER_LISTS = ("tracked_stracks", "lost_stracks")
_NOT_SAVED = {"kalman_filter", "next_id"}  # the tracker's own, rebound on restore


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"nd": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, collections.deque):
        return {"deque": [_encode(v) for v in value], "maxlen": value.maxlen}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "nd" in value:
        return np.asarray(value["nd"], dtype=value["dtype"])
    if isinstance(value, dict) and "deque" in value:
        return collections.deque((_decode(v) for v in value["deque"]), maxlen=value["maxlen"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _ultralytics_version() -> str:
    import ultralytics

    return ultralytics.__version__


def _kind(tracker) -> str:
    """The ultralytics tracker class a tracker is (the project subclasses it)."""
    return next(c.__name__ for c in type(tracker).__mro__ if c.__module__.startswith("ultralytics."))


def dump(tracker, *, id_base: int, last_seq: int, hits: dict[int, list[int]],
         last_capture: datetime | None = None,
         given: dict[int, tuple[list[int], list[list[float]]]] | None = None) -> dict:
    """A JSON-able copy of an ultralytics tracker and the slot figures ``StreamTrackers`` keeps beside it."""
    next_id = next(tracker._ids)
    tracker._ids = itertools.chain([next_id], tracker._ids)  # peeked: the same id is still the next one
    return {
        "layout": LAYOUT,
        "ultralytics": _ultralytics_version(),
        "tracker": _kind(tracker),
        "frame_id": tracker.frame_id,
        "next_id": next_id,
        "id_base": id_base,
        "last_seq": last_seq,
        "hits": {str(k): v for k, v in hits.items()},
        "last_capture": last_capture.isoformat() if last_capture else None,
        "given": {str(k): list(v) for k, v in (given or {}).items()},
        **{name: [{"class": type(t).__name__,
                   "attrs": {k: _encode(v) for k, v in vars(t).items() if k not in _NOT_SAVED}}
                  for t in getattr(tracker, name)] for name in _TRACKER_LISTS},
    }


def restore(tracker, state: dict) -> bool:
    """Load ``state`` into a fresh ``tracker``; False (tracker untouched) when it was written by another layout or
    ultralytics version, or for another tracker kind."""
    from ultralytics.trackers.bot_sort import BOTrack
    from ultralytics.trackers.byte_tracker import STrack

    if (state.get("layout"), state.get("ultralytics"), state.get("tracker")) != (
            LAYOUT, _ultralytics_version(), _kind(tracker)):
        return False
    classes = {"STrack": STrack, "BOTrack": BOTrack}
    lists: dict[str, list] = {}
    for name in _TRACKER_LISTS:
        tracks = []
        for saved in state.get(name, []):
            track_class = classes[saved["class"]]
            track = track_class.__new__(track_class)
            track.__dict__.update({k: _decode(v) for k, v in saved["attrs"].items()})
            track.kalman_filter = tracker.kalman_filter
            tracks.append(track)
        lists[name] = tracks
    tracker.frame_id = int(state["frame_id"])
    tracker._ids = iter(range(int(state["next_id"]), 2**62))
    for name, tracks in lists.items():
        for track in tracks:
            track.next_id = tracker._ids.__next__
        setattr(tracker, name, tracks)
    return True


class TrackStateStore:
    """``detector_trackers`` in Postgres: the latest tracker state per stream (its session's)."""

    WARN_EVERY_S = 60.0

    def __init__(self, settings: Settings):
        self.settings = settings
        self.saved = 0
        self.failed = 0
        self._warned_at = float("-inf")

    def save(self, states: list[tuple[int, str, int, dict]]) -> bool:
        """UPSERT (stream id, session id, last seq, state) rows; a newer seq of a session replaces an older one."""
        if not states:
            return True
        from sqlalchemy import func, or_
        from sqlalchemy.dialects.postgresql import insert

        from core.db.engine import session_scope
        from core.db.models import DetectorTracker

        rows = [dict(stream_id=s, session_id=session, last_seq=seq, state=state) for s, session, seq, state in states]
        statement = insert(DetectorTracker).values(rows)
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[DetectorTracker.stream_id],
            set_={"session_id": excluded.session_id, "last_seq": excluded.last_seq, "state": excluded.state,
                  "updated_at": func.now()},
            where=or_(DetectorTracker.session_id != excluded.session_id,
                      DetectorTracker.last_seq < excluded.last_seq),
        )
        try:
            with session_scope(self.settings) as session:
                session.execute(statement)
        except Exception as error:  # never let tracker persistence stop detection
            self.failed += len(rows)
            self._warn("tracker state not saved (%s): a restart now starts new tracks", error)
            return False
        self.saved += len(rows)
        return True

    def load(self, stream_id: int, session_id: str) -> dict | None:
        from sqlalchemy import select

        from core.db.engine import session_scope
        from core.db.models import DetectorTracker

        try:
            with session_scope(self.settings) as session:
                return session.execute(select(DetectorTracker.state).where(
                    DetectorTracker.stream_id == stream_id, DetectorTracker.session_id == session_id)).scalar()
        except Exception as error:
            self._warn("tracker state not read (%s): starting new tracks", error)
            return None

    def _warn(self, message: str, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= self.WARN_EVERY_S:
            self._warned_at = now
            log.warning(message, str(error).splitlines()[0])
