"""A generated history of windows for several streams (pure: no I/O), for the anomaly tests and bench/alerts.py.

Weeks of windows per stream with a daily curve (peak hour per stream, trough at a quarter of the peak), a
weekly pattern (weekends busier or quieter), week-to-week drift, per-window noise (occupancy counts of one
window are correlated, so their mean scatters more than Poisson) and Poisson counts. The last two weeks are
the ones scored: ``quiet_week`` has nothing injected (false alarms are counted there), ``episode_week`` has
spikes, drops, outages (no windows, the reader session ends and a new one starts: "down") and freezes (the
session stays open, no windows: "frozen"). ``injected`` says exactly what was put where. The DB write is
``tests/alerts/history_db.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

MONDAY = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday 00:00 UTC: weeks line up with the hour of the week
assert MONDAY.weekday() == 0


@dataclass(frozen=True)
class StreamSpec:
    stream_id: int
    name: str
    classes: dict[str, float]  # mean objects per frame at the daily peak on a weekday
    peak_hour: float
    weekend: float  # weekend factor


STREAMS = (
    StreamSpec(1, "Office street", {"person": 6.0, "car": 3.0, "bicycle": 0.8}, peak_hour=13, weekend=0.5),
    StreamSpec(2, "Beach promenade", {"person": 4.0, "dog": 0.8, "bicycle": 1.0}, peak_hour=16, weekend=1.6),
    StreamSpec(3, "Ring road", {"car": 8.0, "truck": 1.5, "person": 0.5}, peak_hour=8, weekend=0.7),
    StreamSpec(4, "Market square", {"person": 3.0, "car": 1.0, "umbrella": 0.6}, peak_hour=11, weekend=1.2),
)


@dataclass(frozen=True)
class Injected:
    stream_id: int
    object_class: str  # '' for down / frozen
    kind: str  # spike | drop | down | frozen
    start: datetime
    end: datetime


@dataclass
class Window:
    stream_id: int
    start: datetime
    end: datetime
    frames: int
    detections: dict[str, int]
    max_per_frame: dict[str, int]


@dataclass
class SessionRow:
    stream_id: int
    id: str
    started_at: datetime
    ended_at: datetime | None
    last_frame_at: datetime | None


@dataclass
class History:
    start: datetime
    weeks: int
    window: timedelta
    streams: tuple[StreamSpec, ...]
    windows: list[Window] = field(default_factory=list)
    sessions: list[SessionRow] = field(default_factory=list)
    injected: list[Injected] = field(default_factory=list)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(weeks=self.weeks)

    @property
    def quiet_week(self) -> tuple[datetime, datetime]:
        return self.end - timedelta(weeks=2), self.end - timedelta(weeks=1)

    @property
    def episode_week(self) -> tuple[datetime, datetime]:
        return self.end - timedelta(weeks=1), self.end


def daily(hour: float, peak: float) -> float:
    """1 at the peak hour, 0.25 twelve hours away, smooth."""
    return 0.25 + 0.75 * (0.5 + 0.5 * math.cos(2 * math.pi * (hour - peak) / 24))


def expected_mean(spec: StreamSpec, cls: str, moment: datetime) -> float:
    hour = moment.hour + moment.minute / 60
    weekly = spec.weekend if moment.weekday() >= 5 else 1.0
    return spec.classes[cls] * daily(hour, spec.peak_hour) * weekly


def _episode(rng: np.random.Generator, spec: StreamSpec, kind: str, week: tuple[datetime, datetime], slot: int,
             window: timedelta, busiest: str) -> Injected:
    day = week[0] + timedelta(hours=slot)
    if kind == "drop":  # a drop needs a busy hour to be a drop at all: at the stream's peak on a weekday
        day = week[0] + timedelta(days=int(rng.integers(0, 5)), hours=spec.peak_hour - 1)
    elif kind == "spike" and daily(day.hour, spec.peak_hour) < 0.5:  # daytime, for a class that is there at all
        day = day.replace(hour=int(spec.peak_hour) % 24)
    start = day.replace(minute=0) + window * int(rng.integers(0, int(timedelta(hours=1) / window)))
    low, high = {"spike": (3, 30), "drop": (5, 30), "down": (10, 40), "frozen": (5, 20)}[kind]
    windows = max(1, math.ceil(timedelta(minutes=int(rng.integers(low, high))) / window))
    cls = {"spike": str(rng.choice(list(spec.classes))), "drop": busiest}.get(kind, "")
    return Injected(spec.stream_id, cls, kind, start, start + window * windows)


def _plan(rng: np.random.Generator, spec: StreamSpec, week: tuple[datetime, datetime],
          window: timedelta) -> list[Injected]:
    """Episodes for one stream in the episode week, spaced apart, at hours where they can be told apart."""
    plan: list[Injected] = []
    slots = list(range(8, 7 * 24 - 8, 9))  # one candidate every 9 h, away from the week's edges
    rng.shuffle(slots)
    busiest = max(spec.classes, key=lambda c: spec.classes[c])
    kinds = ["spike", "spike", "drop", "down", "frozen"]
    for kind in kinds:
        for slot in slots:  # the first candidate slot that keeps 2 h away from the others
            candidate = _episode(rng, spec, kind, week, slot, window, busiest)
            if all(candidate.end + timedelta(hours=2) <= p.start or candidate.start >= p.end + timedelta(hours=2)
                   for p in plan):
                plan.append(candidate)
                slots.remove(slot)
                break
    return plan


def generate(weeks: int = 6, window_seconds: int = 60, fps: float = 1.0, seed: int = 20,
             streams: tuple[StreamSpec, ...] = STREAMS, start: datetime = MONDAY,
             window_noise: float = 0.05, week_drift: float = 0.04,
             episodes: list[Injected] | None = None) -> History:
    """The history: ``weeks`` weeks from ``start``; the last one carries the injected episodes (random ones,
    or exactly ``episodes``)."""
    assert weeks >= 3, "the baselines need weeks before the two scored ones"
    rng = np.random.default_rng(seed)
    window = timedelta(seconds=window_seconds)
    history = History(start, weeks, window, streams)
    frames_full = max(1, round(fps * window_seconds))
    n = int(timedelta(weeks=weeks) / window)
    for spec in streams:
        plan = (_plan(rng, spec, history.episode_week, window) if episodes is None
                else [e for e in episodes if e.stream_id == spec.stream_id])
        history.injected += plan
        drift = {(cls, w): 1 + rng.normal(0, week_drift) for cls in spec.classes for w in range(weeks)}
        session_start: datetime | None = start
        last_frame: datetime | None = None
        session_no = 0
        for i in range(n):
            t0 = start + window * i
            t1 = t0 + window
            active = [p for p in plan if p.start <= t0 < p.end]
            outage = next((p for p in active if p.kind in ("down", "frozen")), None)
            if outage is not None:
                if outage.kind == "down" and session_start is not None:  # the reader loses the stream
                    session_no += 1
                    history.sessions.append(SessionRow(spec.stream_id, f"s{spec.stream_id}-{session_no}",
                                                       session_start, outage.start, last_frame))
                    session_start = None
                continue
            if session_start is None:
                session_start = t0
            frames = frames_full - int(rng.integers(0, 3)) if frames_full > 10 else frames_full
            detections, maxima = {}, {}
            week_index = int((t0 - start) / timedelta(weeks=1))
            for cls in spec.classes:
                lam = expected_mean(spec, cls, t0 + window / 2) * drift[(cls, week_index)]
                lam *= max(0.0, 1 + rng.normal(0, window_noise))
                for p in active:
                    if p.object_class == cls and p.kind == "spike":
                        lam = lam * 3 + 0.5
                    elif p.object_class == cls and p.kind == "drop":
                        lam *= 0.1
                count = int(rng.poisson(lam * frames))
                detections[cls] = count
                maxima[cls] = math.ceil(lam * 2) if count else 0
            history.windows.append(Window(spec.stream_id, t0, t1, frames, detections, maxima))
            last_frame = t1 - timedelta(seconds=1)
        session_no += 1
        history.sessions.append(SessionRow(spec.stream_id, f"s{spec.stream_id}-{session_no}",
                                           session_start or history.end, None, last_frame))
    return history
