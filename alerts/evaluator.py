"""One evaluation pass: read each active rule's data, decide (alerts.rules), and write new firings together with
their outbox rows in one transaction, so a firing is never made without its delivery, nor delivered twice as two
firings (one row per rule, stream and episode key; a concurrent evaluator's insert of the same key is a no-op)."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from alerts import delivery
from alerts.rules import (
    AnomalyRow,
    Decision,
    Episode,
    PastFiring,
    WindowCount,
    anomaly_episodes,
    count_episodes,
    decide,
    down_episode,
)
from core.db.models import (
    AlertFiring,
    AlertOutbox,
    AlertRule,
    AnomalyEvent,
    FrameWindow,
    ObjectStat,
    Stream,
    StreamStatus,
)

log = logging.getLogger(__name__)

LOOKBACK_MARGIN = timedelta(hours=6)  # runs are read this far beyond the rule's minutes
ANOMALY_LOOKBACK = timedelta(hours=24)
DOWN_GRACE = timedelta(minutes=5)  # reconnecting -> failed within this is one outage
# An episode that ended this long before its rule was created does not fire (a window is written a little after it
# ends, so an episode still going when the rule was made may show an end up to a few minutes before).
NEW_RULE_SLACK = timedelta(minutes=10)


@dataclass
class PassSummary:
    rules: int = 0
    episodes: int = 0
    fired: int = 0
    held_by_cooldown: int = 0


def _streams(session: Session, rule: AlertRule) -> dict[int, Stream]:
    query = select(Stream).where(Stream.status != StreamStatus.PAUSED.value)
    if rule.stream_ids:
        query = query.where(Stream.id.in_(rule.stream_ids))
    return {s.id: s for s in session.scalars(query)}


def _windows(session: Session, rule: AlertRule, stream_ids: list[int], since: datetime) -> dict[int, list[WindowCount]]:
    """Closed windows per stream with the class's detections (0 when the class was not seen: zeros are data)."""
    frames = (select(FrameWindow.stream_id, FrameWindow.window_start, func.max(FrameWindow.window_end).label("end"),
                     func.sum(FrameWindow.frames).label("frames"))
              .where(FrameWindow.stream_id.in_(stream_ids), FrameWindow.window_start >= since)
              .group_by(FrameWindow.stream_id, FrameWindow.window_start).subquery())
    counts = (select(ObjectStat.stream_id, ObjectStat.window_start, func.sum(ObjectStat.detections).label("det"))
              .where(ObjectStat.stream_id.in_(stream_ids), ObjectStat.window_start >= since,
                     ObjectStat.object_class == rule.object_class)
              .group_by(ObjectStat.stream_id, ObjectStat.window_start).subquery())
    rows = session.execute(
        select(frames.c.stream_id, frames.c.window_start, frames.c.end, frames.c.frames,
               func.coalesce(counts.c.det, 0))
        .outerjoin(counts, (counts.c.stream_id == frames.c.stream_id)
                   & (counts.c.window_start == frames.c.window_start))
        .order_by(frames.c.stream_id, frames.c.window_start)
    ).all()  # fmt: skip
    result: dict[int, list[WindowCount]] = defaultdict(list)
    for row in rows:
        result[int(row[0])].append(WindowCount(row[1], row[2], int(row[3]), int(row[4])))
    return result


def episodes_for(session: Session, rule: AlertRule, streams: dict[int, Stream], now: datetime) -> list[Episode]:
    ids = sorted(streams)
    if not ids:
        return []
    if rule.condition in ("count_above", "count_below"):
        since = now - timedelta(minutes=rule.minutes) - LOOKBACK_MARGIN
        found: list[Episode] = []
        for stream_id, windows in _windows(session, rule, ids, since).items():
            found += count_episodes(stream_id, rule.object_class, windows, above=rule.condition == "count_above",
                                    threshold=rule.threshold, minutes=rule.minutes)
        return found
    if rule.condition == "anomaly_score":
        events = session.scalars(select(AnomalyEvent).where(
            AnomalyEvent.stream_id.in_(ids), AnomalyEvent.started_at >= now - timedelta(days=7),
            or_(AnomalyEvent.ended_at.is_(None), AnomalyEvent.ended_at >= now - ANOMALY_LOOKBACK),
        ))  # fmt: skip
        rows = [AnomalyRow(e.id, e.stream_id, e.object_class, e.kind, e.started_at, e.ended_at, e.observed,
                           e.expected, e.score) for e in events]
        return anomaly_episodes(rows, threshold=rule.threshold, object_class=rule.object_class, now=now)
    found = []
    for stream in streams.values():
        episode = down_episode(stream.id, stream.status, stream.status_changed_at, minutes=rule.minutes, now=now)
        if episode is not None:
            found.append(episode)
    return found


def _past(session: Session, rule: AlertRule, since: datetime) -> dict[tuple[int, str], list[PastFiring]]:
    past: dict[tuple[int, str], list[PastFiring]] = defaultdict(list)
    for f in session.scalars(select(AlertFiring).where(AlertFiring.rule_id == rule.id,
                                                       AlertFiring.last_seen_at >= since)):
        past[(f.stream_id, f.object_class)].append(PastFiring(f.episode_key, f.started_at, f.last_seen_at, f.fired_at))
    return past


def _fire(session: Session, rule: AlertRule, stream: Stream, episode: Episode, now: datetime) -> bool:
    """Insert the firing and its outbox row; False when another evaluator made the same firing first."""
    delivery_id = str(uuid.uuid4())
    rule_info = {"id": rule.id, "name": rule.name, "condition": rule.condition, "threshold": rule.threshold,
                 "minutes": rule.minutes, "object_class": rule.object_class}
    body = delivery.payload(
        rule.payload_format, delivery_id=delivery_id, rule=rule_info, stream={"id": stream.id, "name": stream.name},
        episode={"key": episode.key, "object_class": episode.object_class, "started_at": episode.started_at.isoformat(),
                 "observed": episode.observed}, summary=episode.summary, fired_at=now,
    )  # fmt: skip
    firing_id = session.scalar(
        insert(AlertFiring).values(
            rule_id=rule.id, stream_id=stream.id, object_class=episode.object_class, episode_key=episode.key[:200],
            delivery_id=delivery_id, started_at=episode.started_at, last_seen_at=episode.last_at, fired_at=now,
            observed=episode.observed, summary=episode.summary,
        ).on_conflict_do_nothing(constraint="uq_alert_firings_episode").returning(AlertFiring.id)
    )  # fmt: skip
    if firing_id is None:
        return False
    session.add(AlertOutbox(firing_id=firing_id, body=body.decode(), state="pending", attempts=0, next_attempt_at=now))
    return True


def _extend(session: Session, rule: AlertRule, decision: Decision) -> None:
    firing = session.scalar(select(AlertFiring).where(
        AlertFiring.rule_id == rule.id, AlertFiring.stream_id == decision.episode.stream_id,
        AlertFiring.episode_key == decision.extend))  # fmt: skip
    if firing is not None and decision.episode.last_at > firing.last_seen_at:
        firing.last_seen_at = decision.episode.last_at


def evaluate_rule(session: Session, rule: AlertRule, now: datetime, summary: PassSummary) -> None:
    streams = _streams(session, rule)
    episodes = episodes_for(session, rule, streams, now)
    past = _past(session, rule, now - timedelta(minutes=rule.minutes) - LOOKBACK_MARGIN - ANOMALY_LOOKBACK)
    grace = {"anomaly_score": None, "stream_down": DOWN_GRACE}.get(rule.condition, timedelta(0))
    for episode in sorted(episodes, key=lambda e: e.started_at):
        summary.episodes += 1
        history = past[(episode.stream_id, episode.object_class)]
        decision = decide(episode, history, cooldown_s=rule.cooldown_s, now=now, grace=grace,
                          not_before=rule.created_at - NEW_RULE_SLACK)
        if decision.extend:
            _extend(session, rule, decision)
        elif decision.fire and _fire(session, rule, streams[episode.stream_id], episode, now):
            summary.fired += 1
            history.append(PastFiring(episode.key, episode.started_at, episode.last_at, now))
            log.info("rule %s (%s) fired on stream %s: %s", rule.id, rule.name, episode.stream_id, episode.summary)
        elif decision.held_by_cooldown:
            summary.held_by_cooldown += 1


def evaluate(session: Session, now: datetime) -> PassSummary:
    """Every unpaused rule, each in its own savepoint (one rule's failure does not stop the others)."""
    summary = PassSummary()
    for rule in session.scalars(select(AlertRule).where(AlertRule.paused.is_(False)).order_by(AlertRule.id)):
        summary.rules += 1
        try:
            with session.begin_nested():
                evaluate_rule(session, rule, now, summary)
        except Exception:
            log.exception("rule %s could not be evaluated", rule.id)
    return summary
