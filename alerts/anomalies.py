"""Episodes of unusual activity, from series already read (pure: no I/O, no clock).

Two detectors:

- ``count_episodes``: spikes and drops of one class of one stream. Each window's mean per frame is scored
  against the stream's baseline for the window's hour of the week, ``z = (observed - median) /
  (1.4826 * MAD + floor)`` (the trending_now mart's score, with the baseline's ``window_mad``: the spread of
  single windows, which scatter more than hourly means). A window with ``z >= threshold`` opens a spike
  (``<= -threshold`` a drop); the episode lasts while ``|z|`` stays above ``release`` (hysteresis, so one
  noisy window neither ends nor restarts it) and ends at the start of the first window that falls back. A
  window on too little evidence (few frames, no baseline or too few weeks of history) is skipped; a gap in the
  windows longer than ``max_gap`` ends an open episode at its last window (an outage is "down", not a drop).
- ``health_episodes``: the stream down or frozen. A stretch without processed frames of at least ``down_after``
  is *frozen* when a reader session was open throughout (connected, no frames), else *down*; a stretch that
  lasts until ``now`` is an open episode, unless the stream is paused.

Both are causal: an episode's start depends only on the windows up to it, so running a detector once over a
span or again every few minutes over a growing span gives the same episodes (``tests/alerts`` checks it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

MAD_SCALE = 1.4826  # MAD -> standard deviation for normal data
SPIKE, DROP, DOWN, FROZEN = "spike", "drop", "down", "frozen"


@dataclass(frozen=True)
class Params:
    """The settings' thresholds (``anomaly_*``, ``trending_*``) in one place."""

    threshold: float = 6.0
    release: float = 3.0
    floor: float = 0.1
    min_frames: int = 20
    min_weeks: int = 2
    max_gap: timedelta = timedelta(minutes=5)
    down_after: timedelta = timedelta(minutes=2)

    @classmethod
    def from_settings(cls, settings) -> Params:
        return cls(threshold=settings.anomaly_threshold, release=min(settings.anomaly_release,
                                                                     settings.anomaly_threshold),
                   floor=settings.trending_score_floor, min_frames=settings.anomaly_min_window_frames,
                   min_weeks=settings.trending_min_weeks,
                   max_gap=timedelta(minutes=settings.anomaly_down_minutes) + timedelta(
                       seconds=settings.window_seconds),
                   down_after=timedelta(minutes=settings.anomaly_down_minutes))


@dataclass(frozen=True)
class Baseline:
    """A stream's normal for one class and hour of the week (stream_class_baselines; ``mad`` is its
    ``window_mad``: windows are what is scored)."""

    median: float
    mad: float
    history_weeks: int


@dataclass(frozen=True)
class Point:
    """One window of one class of one stream: its frames and mean per frame, and the baseline of its hour."""

    start: datetime
    end: datetime
    frames: int
    observed: float
    baseline: Baseline | None


@dataclass(frozen=True)
class Episode:
    """An AnomalyEvent-like row: ``ended_at`` None while it lasts; ``opened_at`` is the end of the window that
    opened it (when a job running at that moment could first see it)."""

    stream_id: int
    object_class: str
    kind: str
    started_at: datetime
    ended_at: datetime | None
    observed: float | None
    expected: float | None
    score: float | None
    opened_at: datetime | None = None

    @property
    def key(self) -> tuple[int, str, str, datetime]:
        return (self.stream_id, self.object_class, self.kind, self.started_at)


def score(observed: float, baseline: Baseline, floor: float) -> float:
    """Robust z of one mean against a baseline (dbt's trending_now has the same formula for hourly means)."""
    return (observed - baseline.median) / (MAD_SCALE * baseline.mad + floor)


def has_evidence(point: Point, params: Params) -> bool:
    return (point.baseline is not None and point.frames >= params.min_frames
            and point.baseline.history_weeks >= params.min_weeks)


@dataclass
class _Open:
    kind: str
    start: datetime
    opened_at: datetime
    last_end: datetime
    frames: int = 0
    detections: float = 0.0
    expected_sum: float = 0.0
    windows: int = 0
    peak: float = 0.0

    def add(self, point: Point, z: float) -> None:
        assert point.baseline is not None
        self.frames += point.frames
        self.detections += point.observed * point.frames
        self.expected_sum += point.baseline.median
        self.windows += 1
        self.peak = max(self.peak, z) if self.kind == SPIKE else min(self.peak, z)
        self.last_end = point.end

    def episode(self, stream_id: int, object_class: str, ended_at: datetime | None) -> Episode:
        return Episode(stream_id, object_class, self.kind, self.start, ended_at,
                       observed=self.detections / self.frames if self.frames else None,
                       expected=self.expected_sum / self.windows if self.windows else None,
                       score=self.peak, opened_at=self.opened_at)


def count_episodes(stream_id: int, object_class: str, points: Iterable[Point], params: Params) -> list[Episode]:
    """Spike and drop episodes of one class of one stream, from its windows in time order."""
    episodes: list[Episode] = []
    current: _Open | None = None
    for point in points:
        if not has_evidence(point, params):
            continue
        assert point.baseline is not None
        if current is not None and point.start - current.last_end > params.max_gap:
            episodes.append(current.episode(stream_id, object_class, current.last_end))
            current = None
        z = score(point.observed, point.baseline, params.floor)
        if current is not None:
            still = z > params.release if current.kind == SPIKE else z < -params.release
            if still:
                current.add(point, z)
                continue
            episodes.append(current.episode(stream_id, object_class, point.start))
            current = None
        if z >= params.threshold or z <= -params.threshold:
            current = _Open(SPIKE if z > 0 else DROP, point.start, opened_at=point.end, last_end=point.end)
            current.add(point, z)
    if current is not None:
        episodes.append(current.episode(stream_id, object_class, None))
    return episodes


@dataclass(frozen=True)
class Session:
    """A reader session as recorded in ``reader_sessions``."""

    started_at: datetime
    ended_at: datetime | None


def _covered(sessions: Sequence[Session], start: datetime, end: datetime | None) -> bool:
    """A session was open throughout [start, end) (end None: until now, still open)."""
    for session in sessions:
        if session.started_at > start:
            continue
        if session.ended_at is None or (end is not None and session.ended_at >= end):
            return True
    return False


def health_episodes(stream_id: int, frames_seen: Sequence[tuple[datetime, datetime]], sessions: Sequence[Session],
                    now: datetime, params: Params, *, paused: bool = False, reader_down: bool = False,
                    last_frame_at: datetime | None = None, previous_end: datetime | None = None) -> list[Episode]:
    """Down and frozen episodes from the windows that processed frames ((start, end), in time order) and the
    reader sessions. ``last_frame_at`` (the readers' latest frame) may be newer than the last window written;
    ``reader_down`` (status reconnecting, failed or ended) makes a stretch up to now "down" even while a stale
    session row is open; ``previous_end`` is the end of the last window with frames before those read, so a
    stretch that began before them keeps its true start."""
    episodes: list[Episode] = []
    for start, end in frames_seen:
        if previous_end is not None and start - previous_end >= params.down_after:
            kind = FROZEN if _covered(sessions, previous_end, start) else DOWN
            gap = (start - previous_end).total_seconds() / 60
            episodes.append(Episode(stream_id, "", kind, previous_end, start, observed=0.0, expected=None,
                                    score=gap, opened_at=previous_end + params.down_after))
        previous_end = end if previous_end is None else max(previous_end, end)
    last_seen = max((t for t in (previous_end, last_frame_at) if t is not None), default=None)
    if last_seen is not None and not paused and now - last_seen >= params.down_after:
        kind = DOWN if reader_down or not _covered(sessions, last_seen, None) else FROZEN
        episodes.append(Episode(stream_id, "", kind, last_seen, None, observed=0.0, expected=None,
                                score=(now - last_seen).total_seconds() / 60, opened_at=last_seen + params.down_after))
    return episodes


def reconcile(stored_open: Iterable[Episode], found: Iterable[Episode], now: datetime) -> list[Episode]:
    """What to write: every episode found, and each stored open episode the new reading no longer finds closed
    at ``now`` (its data changed, e.g. late windows), so nothing stays open for ever."""
    found = list(found)
    keys = {episode.key for episode in found}
    closed = [replace(episode, ended_at=now) for episode in stored_open if episode.key not in keys]
    return found + closed
