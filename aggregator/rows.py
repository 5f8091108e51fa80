"""What the window machine hands to the store: the rows of closed windows, late detections, counted track ids,
snapshots of open windows, and the :class:`Flush` that carries them into one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aggregator.ranges import IntRanges

SessionKey = tuple[int, str, str]  # (stream id, reader session id, model): sequences and track ids live here


@dataclass(frozen=True, slots=True)
class FrameWindowRow:
    stream_id: int
    window_start: datetime
    model: str
    window_end: datetime
    frames: int
    sessions: int
    first_capture_at: datetime
    last_capture_at: datetime


@dataclass(frozen=True, slots=True)
class ObjectStatRow:
    stream_id: int
    window_start: datetime
    model: str
    object_class: str
    window_end: datetime
    class_id: int
    frames: int
    detections: int
    mean_per_frame: float
    max_per_frame: int
    min_per_frame: int
    unique_objects: int


@dataclass(frozen=True, slots=True)
class LateRow:
    stream_id: int
    session_id: str
    seq: int
    capture_time: datetime


@dataclass(frozen=True, slots=True)
class TrackRow:
    """A track id counted as a unique object (of one class) in the window where it was first seen."""

    stream_id: int
    session_id: str
    model: str
    object_class: str
    track_id: int
    window_start: datetime


@dataclass(frozen=True, slots=True)
class UniqueMove:
    """A track id counted in this written window was found in an earlier (late) window: one unique object less."""

    stream_id: int
    window_start: datetime
    model: str
    object_class: str


@dataclass(frozen=True, slots=True)
class ClosedWindow:
    """The full state of a written window (``aggregator_closed``), so late data can re-open it."""

    stream_id: int
    window_start: datetime
    state: dict


@dataclass(frozen=True, slots=True)
class OpenWindow:
    """The persisted state of an open window (``state`` is JSON-ready); ``version`` counts its writes."""

    stream_id: int
    window_start: datetime
    version: int
    state: dict


@dataclass(slots=True)
class Flush:
    """What to write in one transaction, and what to acknowledge (or dead-letter) after it commits."""

    frame_windows: list[FrameWindowRow] = field(default_factory=list)
    object_stats: list[ObjectStatRow] = field(default_factory=list)
    late: list[LateRow] = field(default_factory=list)
    sessions: dict[SessionKey, IntRanges] = field(default_factory=dict)  # counted sequences, whole set
    tracks: list[TrackRow] = field(default_factory=list)
    snapshots: list[OpenWindow] = field(default_factory=list)  # open windows this batch touched (new version)
    discard: list[tuple[int, datetime, int]] = field(default_factory=list)  # closed: (stream, start, version)
    closed: list[ClosedWindow] = field(default_factory=list)  # written windows' states (for late data)
    moves: list[UniqueMove] = field(default_factory=list)  # unique objects taken over by an earlier window
    ack: list[Any] = field(default_factory=list)
    rejected: list[tuple[Any, str]] = field(default_factory=list)  # (handle, reason): dead-letter, then ack

    @property
    def has_rows(self) -> bool:
        return bool(self.frame_windows or self.object_stats or self.late or self.sessions or self.tracks
                    or self.snapshots or self.discard or self.closed or self.moves)

    def streams(self) -> set[int]:
        """Every stream with rows in this flush."""
        return (
            {r.stream_id for r in self.frame_windows} | {r.stream_id for r in self.late}
            | {r.stream_id for r in self.snapshots} | {key[0] for key in self.sessions}
        )

    def without(self, streams: set[int]) -> Flush:
        """The same flush minus the rows of ``streams`` (removed, or taken over by another process)."""
        return Flush(
            frame_windows=[r for r in self.frame_windows if r.stream_id not in streams],
            object_stats=[r for r in self.object_stats if r.stream_id not in streams],
            late=[r for r in self.late if r.stream_id not in streams],
            sessions={k: v for k, v in self.sessions.items() if k[0] not in streams},
            tracks=[r for r in self.tracks if r.stream_id not in streams],
            snapshots=[r for r in self.snapshots if r.stream_id not in streams],
            discard=[w for w in self.discard if w[0] not in streams],
            closed=[r for r in self.closed if r.stream_id not in streams],
            moves=[r for r in self.moves if r.stream_id not in streams],
            ack=self.ack,
            rejected=self.rejected,
        )

    def __bool__(self) -> bool:
        return self.has_rows or bool(self.ack or self.rejected)
