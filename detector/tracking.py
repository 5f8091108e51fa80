"""One ultralytics tracker (ByteTrack or BoT-SORT) per (stream, reader session).

``model.track()`` keeps one tracker per call stream, which rules out batching frames of several streams in
one forward pass. So the detector predicts on the batch and feeds each frame's boxes into its own stream's
tracker here, as ``ultralytics/trackers/track.py`` does. Track ids count from 1 per tracker, so they are
unique per stream and session; a new session starts a new tracker.

A tracker that starts in the middle of a session (the detector restarted, or Key_Shared moved the stream to
another detector process) numbers its tracks from ``first seq x 10,000``, so its ids never collide with those
of the session's earlier tracker (that would need 10,000 new tracks per frame); a session seen from its first
frame keeps ids 1, 2, 3, ...

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

TRACKERS = ("bytetrack", "botsort")
IDS_PER_FRAME = 10_000


def tracker_config(kind: str):
    """The default ultralytics yaml config of a tracker kind."""
    from ultralytics.utils import YAML, IterableSimpleNamespace
    from ultralytics.utils.checks import check_yaml

    if kind not in TRACKERS:
        raise ValueError(f"unknown tracker {kind!r}; choose one of {', '.join(TRACKERS)} or none")
    return IterableSimpleNamespace(**YAML.load(check_yaml(f"{kind}.yaml")))


def make_tracker(kind: str):
    from ultralytics.trackers.bot_sort import BOTSORT
    from ultralytics.trackers.byte_tracker import BYTETracker

    config = tracker_config(kind)
    config.device = "cpu"
    return (BOTSORT if kind == "botsort" else BYTETracker)(args=config)


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

    def __init__(self, kind: str, idle_evict_s: float = 900.0, min_frames: int = 1):
        tracker_config(kind)  # fail at start-up on an unknown kind
        self.kind = kind
        self.min_frames = max(1, min_frames)
        self.idle_evict_s = idle_evict_s
        self._slots: dict[int, _Slot] = {}

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
            slot = self._slots[stream_id] = _Slot(session_id, make_tracker(self.kind), id_base=seq * IDS_PER_FRAME)
        ids = np.full(len(boxes), -1, dtype=np.int64)
        if seq <= slot.last_seq:
            return ids
        slot.last_seq, slot.used_at = seq, now
        tracks = slot.tracker.update(boxes, image)
        if len(tracks):
            ids[tracks[:, -1].astype(int)] = tracks[:, 4].astype(np.int64) + slot.id_base
        if self.min_frames > 1:
            ids = confirmed(ids, slot.hits, seq, self.min_frames)
        self._evict(now)
        return ids

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
