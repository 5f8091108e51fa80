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
The first sighting, before ByteTrack reports the track, counts as one (until 2026-12-03 it did not, so ids came
a sighting late: the counting scene's fast walker, seen 3 times before the line at 1 frame/s, got its id past it).

Association at the sampled rate: at 1 frame/s people move a large part of their box between frames, so plain
IoU loses them. What the first (ultralytics) association leaves is matched again on buffered boxes, grown by a
buffer proportional to the sampled interval (the frames' capture times): TRACKER_OVERRIDES, with the figures
that chose each value; the counting line's results in docs/benchmarks/zones.md ("The documented bound").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from detector.track_state import TrackStateStore, dump, restore

TRACKERS = ("bytetrack", "botsort")
IDS_PER_FRAME = 10_000
DEFAULT_INTERVAL_S = 1.0  # the sampled interval assumed where capture times are not given (the default rate)
REPLAY_FRAMES = 32  # a redelivered frame among the last this many of its stream gets its ids again (a batch or four)
REPLAY_PX = 2.0  # ... when its boxes are where they were (the same picture through the same model), to this many px


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
# - association_buffer 0.5 per second of sampled interval, at most association_buffer_max 1.0 (new): buffered IoU
#   (C-BIoU, Yang et al. 2023) for what the first association leaves. The first cascade stays ultralytics' (IoU
#   with the Kalman-predicted box); then the tracks and high-score detections left over are matched again on
#   boxes grown on every side by the buffer x their longer side, and so is a new track's second sighting. At
#   1 frame/s a walker 55-125 px wide moves 35-45 px between samples (IoU ~0.2 or less, no velocity yet) and the
#   counting scene's fast one 200 px (no overlap): with plain IoU the counting line got 4 of 8 crossings per
#   period (bench/zones.py); with a buffer of 0.5, 8 of 8, each by the person's own track, and unique persons in
#   bench/fidelity.py unchanged (walkway/crossing/traffic 5/4/2) or better (counting scene 7 of 7, was 8). Both
#   parts are needed: the buffer only on the second sighting gave 5 of 8, only in the second cascade 6 of 8.
#   0.5 to 1.0 gave the same figures; 0.4 lost the fast one (the total still read 8: a split track counted the
#   turner twice). A buffer of each box's own width and height, as in the paper, kept 6 of 8: a walker is 2-4
#   times taller than wide and moves sideways. Per second of interval because at 5 frames/s (0.2 s) a buffer of
#   0.5 still counted 8 of 8 but swapped the ids of two people passing each other; 0.1 tracks as plain IoU did.
# - lost_track_s 3 (new; ultralytics keeps a lost track track_buffer = 30 frames, 1 s at 30 frames/s but 30 s at 1):
#   with the buffer alone, over 10 sampling phases of the counting scene at 1 frame/s, a lost track kept for 30 s
#   drifted on its Kalman velocity and was re-found on another person twice (a turner's split track, a partial
#   box of someone else): 5 in and 5 out, more than truth. Kept 3 s: 7 of 10 phases exact, never more than truth;
#   in the other 3 the fast walker enters over a leaving one and is seen on its own only twice before the line
#   (3 in of 4). 2 s gave the same, 4-5 s one overcount; unique persons in bench/fidelity.py the same at 2-30 s.
# BoT-SORT keeps ultralytics' values: with these it split the crossing's people (5 of 4).
TRACKER_OVERRIDES: dict[str, dict[str, float]] = {
    "bytetrack": {"unconfirmed_match_thresh": 0.9, "match_thresh": 0.9, "association_buffer": 0.5,
                  "association_buffer_max": 1.0, "lost_track_s": 3.0},
    "botsort": {},
}


def tracker_args(kind: str, overrides: dict[str, float] | None = None):
    """The tracker's yaml config with the project's overrides (and the caller's) applied."""
    config = tracker_config(kind)
    for key, value in {**TRACKER_OVERRIDES.get(kind, {}), **(overrides or {})}.items():
        setattr(config, key, value)
    config.device = "cpu"
    return config


def buffered(boxes, buffer: float) -> np.ndarray:
    """xyxy boxes grown on every side by ``buffer`` times their longer side (buffered IoU, C-BIoU).

    The longer side, not each box's own width and height as in the paper: a walker is 2-4 times taller than
    wide and moves sideways, so its own width buys little (at 0.5 x its own size the counting scene got 6 of 8
    crossings at 1 frame/s, see TRACKER_OVERRIDES)."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    pad = buffer * np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    return boxes + np.stack([-pad, -pad, pad, pad], axis=1)


def make_tracker(kind: str, overrides: dict[str, float] | None = None):
    from ultralytics.trackers.bot_sort import BOTSORT
    from ultralytics.trackers.byte_tracker import BYTETracker

    base = BOTSORT if kind == "botsort" else BYTETracker

    class SampledRateTracker(base):  # type: ignore[valid-type, misc]
        """ultralytics' tracker with a buffered-IoU second cascade and second sighting (see TRACKER_OVERRIDES)."""

        _buffer = 0.0  # the buffer get_dists applies, set per association stage
        interval_s = DEFAULT_INTERVAL_S  # since the previous frame fed (StreamTrackers sets it per frame)

        def association_buffer(self) -> float:
            """The buffer for this frame: ``association_buffer`` per second of sampled interval, capped."""
            per_s = float(getattr(self.args, "association_buffer", 0.0))
            return min(per_s * self.interval_s, float(getattr(self.args, "association_buffer_max", per_s)))

        def _remove_stale_lost(self, removed):
            """Lost tracks are kept ``lost_track_s`` seconds of sampled interval (ultralytics: ``track_buffer``
            frames, which is 30 s at 1 frame/s)."""
            seconds = getattr(self.args, "lost_track_s", None)
            if seconds is not None:
                self.max_frames_lost = max(1, round(float(seconds) / max(self.interval_s, 1e-3)))
            super()._remove_stale_lost(removed)

        def get_dists(self, tracks, detections):
            if not self._buffer or not tracks or not detections or tracks[0].angle is not None:
                return super().get_dists(tracks, detections)
            from ultralytics.trackers.utils import matching

            dists = matching.iou_distance(list(buffered([t.xyxy for t in tracks], self._buffer)),
                                          list(buffered([d.xyxy for d in detections], self._buffer)))
            return matching.fuse_score(dists, detections) if self.args.fuse_score else dists

        def _first_association(self, strack_pool, detections, activated, refind):
            self._buffer = 0.0  # ultralytics' own: IoU with the Kalman-predicted boxes
            return super()._first_association(strack_pool, detections, activated, refind)

        def _post_first_association(self, strack_pool, detections, u_track, u_detection, activated, refind):
            """The second cascade: tracks and high-score detections left unmatched, on buffered boxes."""
            from ultralytics.trackers.utils import matching

            buffer = self.association_buffer()
            if not buffer or not len(u_track) or not len(u_detection):
                return u_track, u_detection
            tracks = [strack_pool[i] for i in u_track]
            dets = [detections[i] for i in u_detection]
            self._buffer = buffer
            try:
                dists = self.get_dists(tracks, dets)
            finally:
                self._buffer = 0.0
            matches, left_tracks, left_dets = matching.linear_assignment(dists, thresh=self.args.match_thresh)
            self._apply_matches(matches, tracks, dets, activated, refind)
            return [u_track[i] for i in left_tracks], [u_detection[i] for i in left_dets]

        def _unconfirmed_association(self, unconfirmed, u_detection, detections, activated, removed):
            """A new track's second sighting, on buffered boxes and with the gate from the config."""
            from ultralytics.trackers.utils import matching

            detections = [detections[i] for i in u_detection]
            if not unconfirmed:
                return list(range(len(detections))), detections
            self._buffer = self.association_buffer()
            try:
                dists = self.get_dists(unconfirmed, detections)
            finally:
                self._buffer = 0.0
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
    last_capture: datetime | None = None
    used_at: float = field(default_factory=time.monotonic)
    hits: dict[int, list[int]] = field(default_factory=dict)  # track id -> [frames seen, last seq seen]
    # seq -> (ids, boxes as x1, y1, x2, y2 px) of the last REPLAY_FRAMES frames, to answer a redelivery alike
    given: dict[int, tuple[list[int], list[list[float]]]] = field(default_factory=dict)


def _xyxy(boxes) -> np.ndarray:
    return np.asarray(boxes.xyxy, dtype=np.float64).reshape(-1, 4)


def _replayed(given: tuple[list[int], list[list[float]]] | None, boxes, none: np.ndarray) -> np.ndarray:
    """The ids a frame got the first time, if these boxes are that frame's boxes again; else ``none``."""
    if given is None or len(given[0]) != len(boxes):
        return none
    if len(boxes) and np.abs(_xyxy(boxes) - np.asarray(given[1])).max() > REPLAY_PX:
        return none
    return np.array(given[0], dtype=np.int64)


class StreamTrackers:
    """Tracker state per stream id, reset when the stream's reader session changes."""

    def __init__(self, kind: str, idle_evict_s: float = 900.0, min_frames: int = 1,
                 overrides: dict[str, float] | None = None, store: TrackStateStore | None = None):
        tracker_config(kind)  # fail at start-up on an unknown kind
        self.overrides = overrides  # on top of TRACKER_OVERRIDES (benches, tests)
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

    def update(self, stream_id: int, session_id: str, seq: int, boxes, image: np.ndarray,
               capture_time: datetime | None = None) -> np.ndarray:
        """Feed one frame's boxes (ultralytics ``Boxes`` in numpy); return a track id per box (-1 = none).

        A frame the tracker has seen already (a redelivery: the detector that published it died before its
        acknowledgement) gets the ids it got then, when it is among the last ``REPLAY_FRAMES`` and its boxes are
        where they were (``REPLAY_PX``), else none; either way it leaves the state alone.
        ``capture_time`` (the frame's): the interval since the stream's previous frame sizes the association
        buffer (1 s assumed without it).
        """
        now = time.monotonic()
        slot = self._slots.get(stream_id)
        if slot is None or slot.session_id != session_id:
            slot = self._slots[stream_id] = (
                self._resume(stream_id, session_id, seq)
                or _Slot(session_id, make_tracker(self.kind, self.overrides), id_base=seq * IDS_PER_FRAME))
        ids = np.full(len(boxes), -1, dtype=np.int64)
        if seq <= slot.last_seq:
            return _replayed(slot.given.get(seq), boxes, ids)
        slot.last_seq, slot.used_at = seq, now
        self._changed.add(stream_id)
        interval = DEFAULT_INTERVAL_S
        if capture_time is not None and slot.last_capture is not None:
            interval = max((capture_time - slot.last_capture).total_seconds(), 0.0)
        slot.last_capture = capture_time
        slot.tracker.interval_s = interval
        tracks = slot.tracker.update(boxes, image)
        if len(tracks):
            ids[tracks[:, -1].astype(int)] = tracks[:, 4].astype(np.int64) + slot.id_base
        if self.min_frames > 1:
            # ByteTrack reports a track from its second sighting (but one in its tracker's first frame): the first,
            # tentative one counts as a sighting too, so an id is given on the min_frames-th sighting, not one later.
            earlier = {int(t.track_id) + slot.id_base: int(t.frame_id > t.start_frame)
                       for t in slot.tracker.tracked_stracks if t.is_activated}
            ids = confirmed(ids, slot.hits, seq, self.min_frames, earlier=earlier)
        slot.given[seq] = (ids.tolist(), np.round(_xyxy(boxes), 1).tolist())
        for old in [s for s in slot.given if s <= seq - REPLAY_FRAMES]:
            del slot.given[old]
        self._evict(now)
        return ids

    def _resume(self, stream_id: int, session_id: str, seq: int) -> _Slot | None:
        """The session's saved tracker, if the store has one that ``seq`` follows closely enough to continue."""
        state = self.store.load(stream_id, session_id) if self.store is not None else None
        if not state:
            return None
        tracker = make_tracker(self.kind, self.overrides)
        if seq - int(state["last_seq"]) > int(tracker.args.track_buffer) or not restore(tracker, state):
            return None
        self.resumed += 1
        hits = {int(k): v for k, v in state["hits"].items()}
        capture = state.get("last_capture")
        given = {int(k): (v[0], v[1]) for k, v in state.get("given", {}).items()}
        return _Slot(session_id, tracker, id_base=int(state["id_base"]), last_seq=int(state["last_seq"]), hits=hits,
                     last_capture=datetime.fromisoformat(capture) if capture else None, given=given)

    def save(self) -> None:
        """Save the trackers the last frames changed (``detector.track_state``); best-effort."""
        if self.store is None or not self._changed:
            return
        states = [(stream_id, slot.session_id, slot.last_seq,
                   dump(slot.tracker, id_base=slot.id_base, last_seq=slot.last_seq, hits=slot.hits,
                        last_capture=slot.last_capture, given=slot.given))
                  for stream_id in self._changed if (slot := self._slots.get(stream_id)) is not None]
        self._changed.clear()
        self.store.save(states)

    def _evict(self, now: float) -> None:
        stale = [key for key, slot in self._slots.items() if now - slot.used_at > self.idle_evict_s]
        for key in stale:
            del self._slots[key]


def confirmed(ids: np.ndarray, hits: dict[int, list[int]], seq: int, min_frames: int,
              forget_after: int = 300, earlier: dict[int, int] | None = None) -> np.ndarray:
    """``ids`` with -1 for tracks seen in fewer than ``min_frames`` frames so far (``hits`` is updated; a track
    new to ``hits`` starts from its ``earlier`` sightings the tracker did not report); tracks unseen for
    ``forget_after`` frames are forgotten (ultralytics drops them long before)."""
    out = ids.copy()
    for i, track_id in enumerate(ids):
        if track_id < 0:
            continue
        entry = hits.setdefault(int(track_id), [(earlier or {}).get(int(track_id), 0), seq])
        entry[0] += 1
        entry[1] = seq
        if entry[0] < min_frames:
            out[i] = -1
    if seq % forget_after == 0:
        for track_id in [t for t, (_n, last) in hits.items() if seq - last > forget_after]:
            del hits[track_id]
    return out
