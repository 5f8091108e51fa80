"""The anomaly job against Postgres on stream health alone (no baselines built yet): a reader that lost its
stream opens a "down" event, which the first window after it closes; a paused stream raises nothing; a second run
writes no duplicate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
W = timedelta(minutes=1)


def _window(conn, stream_id: int, start: datetime) -> None:
    conn.execute(text("INSERT INTO frame_windows (stream_id, window_start, model, window_end, frames, "
                      "first_capture_at, last_capture_at) VALUES (:s, :a, 'm', :b, 60, :a, :b)"),
                 {"s": stream_id, "a": start, "b": start + W})


def test_down_opens_from_the_reader_status_and_closes_when_frames_return(runtime, clean_tables):
    from alerts.anomaly_job import run_anomaly_job
    from core.db.engine import get_engine

    settings = runtime.model_copy(update={"api_marts_schema": "no_marts_here"})
    engine = get_engine(settings)
    with engine.begin() as conn:
        for sid, status in ((1, "reconnecting"), (2, "paused")):
            conn.execute(text("INSERT INTO streams (id, canonical_id, url, kind, name, fps, status) VALUES "
                              "(:id, :cid, 'http://127.0.0.1/x.m3u8', 'hls', 'cam', 1.0, :status)"),
                         {"id": sid, "cid": f"hls:health-{sid}", "status": status})
            conn.execute(text("INSERT INTO reader_sessions (id, stream_id, started_at, ended_at, last_frame_at) "
                              "VALUES (:id, :s, :a, :e, :l)"),
                         {"id": f"s{sid}", "s": sid, "a": T0, "e": T0 + 5 * W, "l": T0 + 5 * W})
            for minute in range(5):
                _window(conn, sid, T0 + minute * W)

    events = run_anomaly_job(settings, now=T0 + 15 * W)
    assert [(e.stream_id, e.kind, e.started_at, e.ended_at) for e in events] == [(1, "down", T0 + 5 * W, None)]
    run_anomaly_job(settings, now=T0 + 16 * W)  # the same open episode, updated, not a second row

    with engine.begin() as conn:  # the reader is back: a new session and a window at minute 20
        conn.execute(text("UPDATE streams SET status = 'live' WHERE id = 1"))
        conn.execute(text("INSERT INTO reader_sessions (id, stream_id, started_at, last_frame_at) "
                          "VALUES ('s1b', 1, :a, :l)"), {"a": T0 + 20 * W, "l": T0 + 21 * W})
        _window(conn, 1, T0 + 20 * W)
    run_anomaly_job(settings, now=T0 + 22 * W)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT stream_id, object_class, kind, started_at, ended_at, score "
                                 "FROM anomaly_events")).all()
    assert [tuple(r) for r in rows] == [(1, "", "down", T0 + 5 * W, T0 + 20 * W, 15.0)]
