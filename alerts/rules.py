"""What a rule sees in the data, as pure functions: episodes (runs of windows, anomaly events, outages) and
whether each one fires, is the continuation of an episode already fired, or is held back by the cooldown.

An *episode* is one uninterrupted stretch in which a rule's condition holds for one stream (and class):
- count_above / count_below: consecutive closed windows (each starting where the previous ended) whose mean
  count per frame (detections / frames processed, zeros included) is above / below the threshold; it fires once
  the stretch covers ``minutes``. A window with no frames breaks the stretch (an outage is not "below").
- anomaly_score: one anomaly event (spike or drop) whose |score| exceeds the threshold k.
- stream_down: the stream's status has been reconnecting, failed or ended since ``status_changed_at`` for at
  least ``minutes``.
The episode key identifies it in ``alert_firings`` (unique per rule and stream), so a firing is made once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

DOWN_STATUSES = frozenset({"reconnecting", "failed", "ended"})
CONTIGUOUS = timedelta(seconds=1)  # windows closer than this are adjacent


@dataclass(frozen=True)
class WindowCount:
    """One closed window of one stream for the rule's class (all models added together)."""

    start: datetime
    end: datetime
    frames: int
    detections: int

    @property
    def mean(self) -> float:
        return self.detections / self.frames if self.frames else 0.0


@dataclass(frozen=True)
class Episode:
    stream_id: int
    object_class: str
    key: str
    started_at: datetime
    last_at: datetime  # end of the latest evidence (window end, event end or now)
    observed: float | None
    qualifies: bool  # long (or strong) enough to fire
    summary: str


@dataclass(frozen=True)
class PastFiring:
    """What the evaluator needs of a firing already made for this rule, stream and class."""

    episode_key: str
    started_at: datetime
    last_seen_at: datetime
    fired_at: datetime


def count_episodes(stream_id: int, object_class: str, windows: Sequence[WindowCount], *, above: bool,
                   threshold: float, minutes: int) -> list[Episode]:
    """Maximal runs of adjacent windows meeting the condition, oldest first."""
    runs: list[list[WindowCount]] = []
    for window in sorted(windows, key=lambda w: w.start):
        holds = window.frames > 0 and (window.mean > threshold if above else window.mean < threshold)
        if not holds:
            if runs and runs[-1]:
                runs.append([])
            continue
        if runs and runs[-1] and window.start - runs[-1][-1].end <= CONTIGUOUS:
            runs[-1].append(window)
        else:
            runs.append([window])
    episodes = []
    word = "above" if above else "below"
    for run in filter(None, runs):
        frames = sum(w.frames for w in run)
        mean = sum(w.detections for w in run) / frames
        span = run[-1].end - run[0].start
        peak = max(w.mean for w in run) if above else min(w.mean for w in run)
        episodes.append(Episode(
            stream_id=stream_id, object_class=object_class,
            key=f"count_{word}:{object_class}:{run[0].start.isoformat()}",
            started_at=run[0].start, last_at=run[-1].end, observed=round(peak, 4),
            qualifies=span >= timedelta(minutes=minutes),
            summary=(f"{object_class}: {mean:.2f} per frame {word} {threshold:g} for {span.total_seconds() / 60:.0f} "
                     f"min (from {run[0].start:%H:%M} UTC)"),
        ))  # fmt: skip
    return episodes


@dataclass(frozen=True)
class AnomalyRow:
    id: int
    stream_id: int
    object_class: str
    kind: str
    started_at: datetime
    ended_at: datetime | None
    observed: float | None
    expected: float | None
    score: float | None


def anomaly_episodes(events: Iterable[AnomalyRow], *, threshold: float, object_class: str,
                     now: datetime) -> list[Episode]:
    """Spike and drop events of the class (any class when ''), each an episode; it qualifies above k."""
    episodes = []
    for event in events:
        if event.kind not in ("spike", "drop") or (object_class and event.object_class != object_class):
            continue
        score = abs(event.score) if event.score is not None else 0.0
        figures = [f"{event.observed:.2f} per frame"] if event.observed is not None else []
        figures += [f"usually {event.expected:.2f}"] if event.expected is not None else []
        detail = f" ({', '.join(figures)})" if figures else ""
        episodes.append(Episode(
            stream_id=event.stream_id, object_class=event.object_class, key=f"anomaly:{event.id}",
            started_at=event.started_at, last_at=event.ended_at or now, observed=event.score,
            qualifies=score > threshold,
            summary=f"{event.object_class or 'stream'}: {event.kind} with score {score:.1f}{detail}",
        ))  # fmt: skip
    return episodes


def down_episode(stream_id: int, status: str, since: datetime, *, minutes: int, now: datetime) -> Episode | None:
    if status not in DOWN_STATUSES:
        return None
    span = now - since
    return Episode(stream_id=stream_id, object_class="", key=f"down:{since.isoformat()}", started_at=since,
                   last_at=now, observed=round(span.total_seconds() / 60, 1),
                   qualifies=span >= timedelta(minutes=minutes),
                   summary=f"stream {status} for {span.total_seconds() / 60:.0f} min (since {since:%H:%M} UTC)")


@dataclass(frozen=True)
class Decision:
    """``fire``: a new firing; ``extend``: the key of the past firing whose episode this continues."""

    episode: Episode
    fire: bool = False
    extend: str | None = None
    held_by_cooldown: bool = False


def decide(episode: Episode, past: Sequence[PastFiring], *, cooldown_s: int, now: datetime,
           grace: timedelta | None = timedelta(0), not_before: datetime | None = None) -> Decision:
    """Fire a qualifying episode once: not when it has been fired (same key), not when it continues an episode
    already fired (it overlaps that firing's stretch, within ``grace``: a stream that goes from reconnecting to
    failed is down all along), and not within ``cooldown_s`` of the previous firing (it is looked at again at the
    next evaluation, and fires then if it still holds). ``grace`` None: episodes never continue one another
    (anomaly events are episodes of their own). An episode whose evidence ended before ``not_before`` (the rule's
    creation less a few minutes) is history, not news: a new rule does not fire on this morning's episodes."""
    for firing in past:
        if firing.episode_key == episode.key:
            return Decision(episode, extend=firing.episode_key)
    for firing in past if grace is not None else ():
        if firing.started_at <= episode.last_at and firing.last_seen_at + (grace or timedelta(0)) >= episode.started_at:
            return Decision(episode, extend=firing.episode_key)
    if not episode.qualifies or (not_before is not None and episode.last_at < not_before):
        return Decision(episode)
    latest = max((f.fired_at for f in past), default=None)
    if latest is not None and now - latest < timedelta(seconds=cooldown_s):
        return Decision(episode, held_by_cooldown=True)
    return Decision(episode, fire=True)
