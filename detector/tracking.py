"""One ultralytics tracker (ByteTrack or BoT-SORT) per (stream, reader session).

``model.track()`` keeps one tracker per call stream, which rules out batching frames of several streams in
one forward pass. So the detector predicts on the batch and feeds each frame's boxes into its own stream's
tracker here, as ``ultralytics/trackers/track.py`` does. Track ids count from 1 per tracker, so they are
unique per stream and session; a new session starts a new tracker.

A tracker that starts in the middle of a session (the detector restarted, or Key_Shared moved the stream to
another detector process) continues the tracker saved in Postgres after the last batch (``detector.track_state``)
when there is a recent one of that session, so ids stay continuous. Without one it numbers its tracks from
``first seq x 10,000``, so its ids never collide with those of the session's earlier tracker (that would need
10,000 new tracks per frame); a session seen from its first frame keeps ids 1, 2, 3, ...

Every detection stays in the message: a detection the tracker has not confirmed (yet) carries no track id,
so occupancy counts do not depend on whether tracking is on.

Confirmed tracks: a track id is given out only from the ``min_frames``-th sampled frame the track was seen in.
ByteTrack starts a track on two consecutive matches; at 1 frame/s a person briefly lost and found again, or a
flickering box, still made 7 tracks of 5 people in bench/fidelity.py; counting only tracks seen in 3 frames
made 5 (docs/benchmarks/fidelity.md). The unique counts downstream count ids, so they see confirmed tracks only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detector.track_state import TrackStateStore, dump, restore

TRACKERS = ("bytetrack", "botsort")
IDS_PER_FRAME = 10_000


def tracker_config(kind: str):
    """The default ultralytics yaml config of a tracker kind."""
    from ultralytics.utils import YAML, IterableSimpleNamespace
    from ultralytics.utils.checks import check_yaml

    if kind not in TRACKERS:
        raise ValueError(f"unknown tracker {kind!r}; choose one of {', '.join(TRACKERS)} or none")
    return IterableSimpleNamespace(**YAML.load(check_yaml(f"{kind}.yaml")))


# Where the project departs from ultralytics' tracker yaml, and why (measured on the generated scenes at 1 sampled
# frame/s, torch and OpenVINO INT8 alike: docs/benchmarks/fidelity.md, "Tracker at the sampled rate").
# - unconfirmed_match_thresh (0.7 hard-coded in ultralytics): the gate (1 - IoU x score) for a new track's
#   second sighting. A new track has no velocity yet, so at 1 frame/s a walker 60 px wide that moved 30 px
#   overlaps its first box by IoU ~0.33; times a score of 0.75 that is a cost of 0.75 > 0.7: the track is
#   dropped and restarted on every frame, and a person crossed the whole walkway without ever getting an id.
# - match_thresh 0.8 -> 0.9: the same for tracks confirmed a frame or two ago (velocity still poor); with the
#   wider second-sighting gate alone they broke and restarted (crossing: 17 tracks of 4 people before the
#   confirmation rule).
# BoT-SORT keeps ultralytics' values: with these it split the crossing's people (5 of 4).
TRACKER_OVERRIDES: dict[str, dict[str, float]] = {
    "bytetrack": {"unconfirmed_match_thresh": 0.9, "match_thresh": 0.9},
    "botsort": {},
}


def tracker_args(kind: str, overrides: dict[str, float] | None = None):
    """The tracker's yaml config with the project's overrides (and the caller's) applied."""
    config = tracker_config(kind)
    for key, value in {**TRACKER_OVERRIDES.get(kind, {}), **(overrides or {})}.items():
        setattr(config, key, value)
    config.device = "cpu"
    return config


def make_tracker(kind: str, overrides: dict[str, float] | None = None):
    from ultralytics.trackers.bot_sort import BOTSORT
    from ultralytics.trackers.byte_tracker import BYTETracker

    base = BOTSORT if kind == "botsort" else BYTETracker

    class SampledRateTracker(base):  # type: ignore[valid-type, misc]
        """ultralytics' tracker with the second-sighting gate taken from the config (see TRACKER_OVERRIDES)."""

        def _unconfirmed_association(self, unconfirmed, u_detection, detections, activated, removed):
            from ultralytics.trackers.utils import matching

            detections = [detections[i] for i in u_detection]
            if not unconfirmed:
                return list(range(len(detections))), detections
            dists = self.get_dists(unconfirmed, detections)
            gate = float(getattr(self.args, "unconfirmed_match_thresh", 0.7))
            matches, u_unconfirmed, u_detection = matching.linear_assignment(dists, thresh=gate)
            for itracked, idet in matches:
                unconfirmed[itracked].update(detections[idet], self.frame_id)
                activated.append(unconfirmed[itracked])
            for it in u_unconfirmed:
                unconfirmed[it].mark_removed()
                removed.append(unconfirmed[it])
            return u_detection, detections

    return SampledRateTracker(args=tracker_args(kind, overrides))


@dataclass
class _Slot:
    session_id: str
    tracker: Any
    id_base: int = 0
    last_seq: int = -1
    used_at: float = field(default_factory=time.monotonic)
    hits: dict[int, list[int]] = field(default_factory=dict)  # track id -> [frames seen, last seq seen]


class StreamTrackers:
    """Tracker state per stream id, reset when the stream's reader session changes."""

    def __init__(self, kind: str, idle_evict_s: float = 900.0, min_frames: int = 1,
                 store: TrackStateStore | None = None):
        tracker_config(kind)  # fail at start-up on an unknown kind
        self.kind = kind
        self.min_frames = max(1, min_frames)
        self.idle_evict_s = idle_evict_s
        self.store = store
        self.resumed = 0  # trackers continued from a saved state
        self._slots: dict[int, _Slot] = {}
        self._changed: set[int] = set()

    def __len__(self) -> int:
        return len(self._slots)

    def session_of(self, stream_id: int) -> str | None:
        slot = self._slots.get(stream_id)
        return slot.session_id if slot else None

    def update(self, stream_id: int, session_id: str, seq: int, boxes, image: np.ndarray) -> np.ndarray:
        """Feed one frame's boxes (ultralytics ``Boxes`` in numpy); return a track id per box (-1 = none).

        A frame older than what the tracker has seen (a redelivery) gets no ids and leaves the state alone.
        """
        now = time.monotonic()
        slot = self._slots.get(stream_id)
        if slot is None or slot.session_id != session_id:
            slot = self._slots[stream_id] = (self._resume(stream_id, session_id, seq)
                                             or _Slot(session_id, make_tracker(self.kind), id_base=seq * IDS_PER_FRAME))
        ids = np.full(len(boxes), -1, dtype=np.int64)
        if seq <= slot.last_seq:
            return ids
        slot.last_seq, slot.used_at = seq, now
        self._changed.add(stream_id)
        tracks = slot.tracker.update(boxes, image)
        if len(tracks):
            ids[tracks[:, -1].astype(int)] = tracks[:, 4].astype(np.int64) + slot.id_base
        if self.min_frames > 1:
            ids = confirmed(ids, slot.hits, seq, self.min_frames)
        self._evict(now)
        return ids

    def _resume(self, stream_id: int, session_id: str, seq: int) -> _Slot | None:
        """The session's saved tracker, if the store has one that ``seq`` follows closely enough to continue."""
        state = self.store.load(stream_id, session_id) if self.store is not None else None
        if not state:
            return None
        tracker = make_tracker(self.kind)
        if seq - int(state["last_seq"]) > int(tracker.args.track_buffer) or not restore(tracker, state):
            return None
        self.resumed += 1
        hits = {int(k): v for k, v in state["hits"].items()}
        return _Slot(session_id, tracker, id_base=int(state["id_base"]), last_seq=int(state["last_seq"]), hits=hits)

    def save(self) -> None:
        """Save the trackers the last frames changed (``detector.track_state``); best-effort."""
        if self.store is None or not self._changed:
            return
        states = [(stream_id, slot.session_id, slot.last_seq,
                   dump(slot.tracker, id_base=slot.id_base, last_seq=slot.last_seq, hits=slot.hits))
                  for stream_id in self._changed if (slot := self._slots.get(stream_id)) is not None]
        self._changed.clear()
        self.store.save(states)

    def _evict(self, now: float) -> None:
        stale = [key for key, slot in self._slots.items() if now - slot.used_at > self.idle_evict_s]
        for key in stale:
            del self._slots[key]


def confirmed(ids: np.ndarray, hits: dict[int, list[int]], seq: int, min_frames: int,
              forget_after: int = 300) -> np.ndarray:
    """``ids`` with -1 for tracks seen in fewer than ``min_frames`` frames so far (``hits`` is updated);
    tracks unseen for ``forget_after`` frames are forgotten (ultralytics drops them long before)."""
    out = ids.copy()
    for i, track_id in enumerate(ids):
        if track_id < 0:
            continue
        entry = hits.setdefault(int(track_id), [0, seq])
        entry[0] += 1
        entry[1] = seq
        if entry[0] < min_frames:
            out[i] = -1
    if seq % forget_after == 0:
        for track_id in [t for t, (_n, last) in hits.items() if seq - last > forget_after]:
            del hits[track_id]
    return out
