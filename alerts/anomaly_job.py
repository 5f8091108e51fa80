"""The anomaly job: read recent windows, the baselines mart and stream health; write ``anomaly_events``.

Each run re-reads the last ``anomaly_lookback_hours`` of windows (from the start of the oldest episode still
open, if that is earlier), finds the episodes again with ``alerts.anomalies`` and upserts them on
(stream, class, kind, start): an episode found before is updated (its end, figures and score), a new one is
inserted, and a stored open episode the data no longer show is closed. The detectors are causal and the
baselines leave the last day out of their history, so a run every minute and one run over the whole span write
the same rows. Alert rules (``alerts.evaluator``, another change) read the table.

    python -m alerts.anomaly_job                 # one run, now
    python -m alerts.anomaly_job --since 2026-10-12T00:00:00Z --now 2026-10-19T00:00:00Z
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import ProgrammingError

from alerts.anomalies import (
    Baseline,
    Episode,
    Params,
    Point,
    Session,
    count_episodes,
    health_episodes,
    reconcile,
)
from core.db.engine import get_engine
from core.db.models import AnomalyEvent, StreamStatus
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)

UNDEFINED_TABLE = "42P01"
READER_DOWN = {StreamStatus.RECONNECTING.value, StreamStatus.FAILED.value, StreamStatus.ENDED.value}

_OPEN = text("SELECT stream_id, object_class, kind, started_at, observed, expected, score FROM anomaly_events "
             "WHERE ended_at IS NULL")
_STREAMS = text("SELECT id, status FROM streams")
_WINDOWS = text("""
    SELECT stream_id, window_start, max(window_end) AS window_end, sum(frames)::bigint AS frames
    FROM frame_windows WHERE window_start >= :since AND window_start < :now
    GROUP BY stream_id, window_start HAVING sum(frames) > 0 ORDER BY stream_id, window_start
""")
_COUNTS = text("""
    SELECT stream_id, object_class, window_start, sum(detections)::bigint AS detections
    FROM object_stats WHERE window_start >= :since AND window_start < :now
    GROUP BY stream_id, object_class, window_start
""")
# The end of each stream's last window with frames before the span: an outage that began earlier keeps its start.
_PREVIOUS_END = text("""
    SELECT stream_id, max(window_end) AS window_end FROM frame_windows
    WHERE window_start < :since AND window_start >= :horizon AND frames > 0 GROUP BY stream_id
""")
_SESSIONS = text("""
    SELECT stream_id, started_at, ended_at, last_frame_at FROM reader_sessions
    WHERE started_at < :now AND (ended_at IS NULL OR ended_at >= :horizon)
""")


def _baselines_sql(schema: str):
    return text(f'SELECT stream_id, object_class, hour_of_week, median, window_mad, history_weeks '
                f'FROM "{schema}".stream_class_baselines')


def hour_of_week(moment: datetime) -> int:
    utc = moment.astimezone(UTC)
    return utc.weekday() * 24 + utc.hour


def _read(conn, settings: Settings, since: datetime, now: datetime) -> dict:
    horizon = since - timedelta(days=1)
    params = {"since": since, "now": now, "horizon": horizon}
    try:
        with conn.begin_nested():
            baselines = conn.execute(_baselines_sql(settings.api_marts_schema)).all()
    except ProgrammingError as error:
        if getattr(getattr(error, "orig", None), "sqlstate", None) != UNDEFINED_TABLE:
            raise
        log.debug("no baselines yet (the first dbt build has not run): only down/frozen episodes")
        baselines = []
    return {
        "streams": conn.execute(_STREAMS).all(),
        "windows": conn.execute(_WINDOWS, params).all(),
        "counts": conn.execute(_COUNTS, params).all(),
        "previous_end": dict(conn.execute(_PREVIOUS_END, params).tuples().all()),
        "sessions": conn.execute(_SESSIONS, params).all(),
        "baselines": baselines,
    }


def find_episodes(data: dict, now: datetime, params: Params) -> list[Episode]:
    """Every episode in what was read (pure, given the rows)."""
    windows = defaultdict(list)
    for row in data["windows"]:
        windows[row.stream_id].append(row)
    counts = {(r.stream_id, r.object_class, r.window_start): r.detections for r in data["counts"]}
    baselines: dict[tuple[int, str], dict[int, Baseline]] = defaultdict(dict)
    for b in data["baselines"]:
        baselines[(b.stream_id, b.object_class)][b.hour_of_week] = Baseline(b.median, b.window_mad, b.history_weeks)
    sessions = defaultdict(list)
    last_frame: dict[int, datetime] = {}
    for s in data["sessions"]:
        sessions[s.stream_id].append(Session(s.started_at, s.ended_at))
        if s.last_frame_at is not None:
            last_frame[s.stream_id] = max(last_frame.get(s.stream_id, s.last_frame_at), s.last_frame_at)

    episodes: list[Episode] = []
    for (stream_id, cls), by_hour in sorted(baselines.items()):
        points = [Point(w.window_start, w.window_end, w.frames,
                        counts.get((stream_id, cls, w.window_start), 0) / w.frames,
                        by_hour.get(hour_of_week(w.window_start)))
                  for w in windows.get(stream_id, [])]
        episodes += count_episodes(stream_id, cls, points, params)
    for stream in data["streams"]:
        seen = [(w.window_start, w.window_end) for w in windows.get(stream.id, [])]
        episodes += health_episodes(
            stream.id, seen, sessions.get(stream.id, []), now, params,
            paused=stream.status == StreamStatus.PAUSED.value, reader_down=stream.status in READER_DOWN,
            last_frame_at=last_frame.get(stream.id), previous_end=data["previous_end"].get(stream.id))
    return episodes


def _write(conn, episodes: list[Episode]) -> None:
    if not episodes:
        return
    rows = [{"stream_id": e.stream_id, "object_class": e.object_class, "kind": e.kind, "started_at": e.started_at,
             "ended_at": e.ended_at, "observed": e.observed, "expected": e.expected, "score": e.score}
            for e in episodes]
    statement = insert(AnomalyEvent).values(rows)
    statement = statement.on_conflict_do_update(
        constraint="uq_anomaly_events_episode",
        set_={"ended_at": statement.excluded.ended_at, "observed": statement.excluded.observed,
              "expected": statement.excluded.expected, "score": statement.excluded.score,
              "updated_at": text("now()")},
        # An episode closed before stays closed at its end (a later reading cannot reopen it by accident).
        where=AnomalyEvent.ended_at.is_(None),
    )
    conn.execute(statement)


def run_anomaly_job(settings: Settings, now: datetime, since: datetime | None = None) -> list[Episode]:
    """One run at ``now``: the episodes found in the span (and the stored open ones it closed), written."""
    params = Params.from_settings(settings)
    span_start = since or now - timedelta(hours=settings.anomaly_lookback_hours)
    with get_engine(settings).begin() as conn:
        stored = [Episode(r.stream_id, r.object_class, r.kind, r.started_at, None, r.observed, r.expected, r.score)
                  for r in conn.execute(_OPEN)]
        stored = [e for e in stored if e.started_at < now]
        if stored:
            span_start = min(span_start, min(e.started_at for e in stored))
        data = _read(conn, settings, span_start, now)
        found = find_episodes(data, now, params)
        written = reconcile(stored, found, now)
        _write(conn, written)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--now", type=datetime.fromisoformat, default=None, help="ISO time (default: now)")
    parser.add_argument("--since", type=datetime.fromisoformat, default=None,
                        help="read windows from here (default: now - anomaly_lookback_hours)")
    args = parser.parse_args(argv)
    now = args.now or datetime.now(UTC)
    episodes = run_anomaly_job(get_settings(), now, args.since)
    summary: dict[str, int] = defaultdict(int)
    for episode in episodes:
        summary[episode.kind] += 1
    print(json.dumps({"now": now.isoformat(), "episodes": len(episodes), **summary}))


if __name__ == "__main__":
    main()
