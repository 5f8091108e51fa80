"""dbt's stream_class_baselines and trending_now on a hand-made history, every figure worked out by hand.

One-hour windows of 60 frames, as of Monday 2026-11-30 10:30 UTC (hour of the week 10). History: 4 weeks that
end a day before the current hour, [2026-11-01 10:00, 2026-11-29 10:00).

- stream 1, person, Mondays 10:00: 1.0 (Nov 23), 2.0 (Nov 16), 4.0 (Nov 9), and Nov 2 with frames but no person
  row: a zero. Median 1.5, |deviations| 0.5 0.5 2.5 1.5, MAD 1.0. Sunday Nov 22 10:00 (hour 154) is one week of
  history; Sunday Nov 29 10:00 lies in the guard day, and Oct 26 before the four weeks: neither counts. Now:
  300 detections in 60 frames, observed 5.0, score (5 - 1.5) / (1.4826 * 1.0 + 0.1).
- stream 2, person: only Nov 23 10:00 (2.0): one week, below baseline_min_weeks (2): scored but not ranked.
- stream 3: Nov 16 10:00 with 20 frames (< min_frames 30): no history at all.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

SCHEMA = "baselines_test"
AS_OF = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)
NOW_HOUR = AS_OF.replace(minute=0)
MONDAY = 10  # hour of the week of Monday 10h

# (stream, hour, frames, {class: detections})
HOURS = [
    (1, datetime(2026, 11, 23, 10, tzinfo=UTC), 60, {"person": 60}),
    (1, datetime(2026, 11, 16, 10, tzinfo=UTC), 60, {"person": 120}),
    (1, datetime(2026, 11, 9, 10, tzinfo=UTC), 60, {"person": 240}),
    (1, datetime(2026, 11, 2, 10, tzinfo=UTC), 60, {}),
    (1, datetime(2026, 10, 26, 10, tzinfo=UTC), 60, {"person": 6000}),  # before the four weeks
    (1, datetime(2026, 11, 22, 10, tzinfo=UTC), 60, {"person": 30}),  # Sunday, hour 154
    (1, datetime(2026, 11, 29, 10, tzinfo=UTC), 60, {"person": 6000}),  # the guard day
    (1, NOW_HOUR, 60, {"person": 300}),
    (2, datetime(2026, 11, 23, 10, tzinfo=UTC), 60, {"person": 120}),
    (2, NOW_HOUR, 60, {"person": 60}),
    (3, datetime(2026, 11, 16, 10, tzinfo=UTC), 20, {"person": 100}),
    (3, NOW_HOUR, 60, {"person": 60}),
]


@pytest.fixture(scope="module")
def built(runtime):
    from core.db.engine import get_engine
    from dbt_analytics.runner import run_dbt, settings_vars

    engine = get_engine(runtime)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE streams, reader_sessions, frame_windows, object_stats RESTART IDENTITY CASCADE"))
        for sid in (1, 2, 3):
            conn.execute(text("INSERT INTO streams (id, canonical_id, url, kind, name, fps, status) VALUES "
                              "(:id, :cid, 'http://127.0.0.1/x.m3u8', 'hls', :name, 1.0, 'live')"),
                         {"id": sid, "cid": f"hls:baseline-{sid}", "name": f"Stream {sid}"})
        for sid, hour, frames, classes in HOURS:
            end = hour + timedelta(hours=1)
            conn.execute(text("INSERT INTO frame_windows (stream_id, window_start, model, window_end, frames, "
                              "first_capture_at, last_capture_at) VALUES (:s, :a, 'm', :b, :f, :a, :b)"),
                         {"s": sid, "a": hour, "b": end, "f": frames})
            for cls, detections in classes.items():
                conn.execute(text(
                    "INSERT INTO object_stats (stream_id, window_start, model, object_class, window_end, class_id, "
                    "frames, detections, mean_per_frame, max_per_frame, min_per_frame) VALUES "
                    "(:s, :a, 'm', :c, :b, 0, :f, :d, :d / :f, 9, 0)"),
                    {"s": sid, "a": hour, "b": end, "c": cls, "f": frames, "d": detections})
    settings = runtime.model_copy(update={"dbt_schema": SCHEMA})
    result = run_dbt(settings, ["build", "--select", "+trending_now", "--indirect-selection", "cautious",
                                "--full-refresh", "--vars",
                                json.dumps({**settings_vars(settings), "as_of": AS_OF.isoformat()})], capture=True)
    assert result.returncode == 0, result.stdout[-4000:]
    return engine, result.stdout


def test_the_models_and_their_tests_pass(built):
    _, output = built
    for name in ("stream_class_baselines", "trending_now", "assert_trending_ranks",
                 "accepted_range_stream_class_baselines_hour_of_week__167__0"):
        assert name in output
    assert "Completed successfully" in output and "ERROR=0" in output


def test_baselines_median_mad_and_history(built):
    engine, _ = built
    with engine.connect() as conn:
        rows = {(r.stream_id, r.object_class, r.hour_of_week): r for r in conn.execute(text(
            f"SELECT * FROM {SCHEMA}.stream_class_baselines"))}
    monday = rows[(1, "person", MONDAY)]
    assert (monday.median, monday.mad, monday.window_mad) == (1.5, 1.0, 1.0)
    assert (monday.history_hours, monday.history_weeks, monday.history_windows) == (4, 4, 4)
    assert monday.first_hour == datetime(2026, 11, 2, 10, tzinfo=UTC)
    assert monday.last_hour == datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert monday.as_of_hour == NOW_HOUR and monday.mean == pytest.approx(7 / 4)
    sunday = rows[(1, "person", 154)]  # Nov 22 only: Nov 29 is in the guard day
    assert (sunday.median, sunday.mad, sunday.history_weeks) == (0.5, 0.0, 1)
    assert (rows[(2, "person", MONDAY)].history_weeks, rows[(2, "person", MONDAY)].median) == (1, 2.0)
    assert set(rows) == {(1, "person", MONDAY), (1, "person", 154), (2, "person", MONDAY)}  # stream 3: 20 frames


def test_trending_scores_and_ranks_only_what_has_the_evidence(built):
    engine, _ = built
    with engine.connect() as conn:
        rows = {r.stream_id: r for r in conn.execute(text(f"SELECT * FROM {SCHEMA}.trending_now"))}
    assert set(rows) == {1, 2}  # stream 3 has no baseline
    one = rows[1]
    assert (one.hour, one.hour_of_week, one.frames, one.observed, one.expected) == (NOW_HOUR, MONDAY, 60, 5.0, 1.5)
    assert one.score == pytest.approx(3.5 / (1.4826 * 1.0 + 0.1))
    assert (one.eligible, one.class_rank, one.stream_rank) == (True, 1, 1)
    two = rows[2]
    assert (two.observed, two.expected, two.eligible, two.class_rank, two.stream_rank) == (1.0, 2.0, False, None,
                                                                                            None)


def test_trending_follows_the_session_as_of(built):
    """The API sets streamscope.as_of per request: an hour later there is no current hour with frames."""
    engine, _ = built
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('streamscope.as_of', :t, true)"),
                     {"t": (AS_OF + timedelta(hours=1)).isoformat()})
        assert conn.execute(text(f"SELECT count(*) FROM {SCHEMA}.trending_now")).scalar() == 0
