"""dbt builds the zone marts from the aggregator's rows: crossings per hour, occupancy over all the hour's frames,
and lines ranked by crossings per hour observed; their tests pass."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from core import zones
from core.db.engine import get_engine, session_scope
from tests.aggregator.helpers import register_streams
from tests.analytics.test_marts import streamscope

H = datetime(2026, 3, 2, 10, tzinfo=UTC)


@pytest.mark.slow  # a dbt build, about 30 s
def test_zone_marts(runtime) -> None:
    busy, quiet = register_streams(runtime, 2)
    with session_scope(runtime) as session:
        lines = {s: zones.create(session, s, "line", "door", [[0.5, 0.9], [0.5, 0.1]]).id for s in (busy, quiet)}
        zone = zones.create(session, busy, "zone", "square", [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]).id
    with get_engine(runtime).begin() as conn:
        for stream in (busy, quiet):
            for minute in range(0, 60, 10):  # 6 windows of 10 min, 60 frames each, in hour H; quiet also in H+1
                for hour in (H, H + timedelta(hours=1)) if stream == quiet else (H,):
                    start = hour + timedelta(minutes=minute)
                    conn.execute(text(
                        "INSERT INTO frame_windows (stream_id, window_start, model, window_end, frames, sessions, "
                        "first_capture_at, last_capture_at) VALUES (:s, :w, 'm', :e, 60, 1, :w, :w)"),
                        {"s": stream, "w": start, "e": start + timedelta(minutes=10)})
        crossings = [(busy, H, 5, 3), (busy, H + timedelta(minutes=10), 2, 0), (quiet, H, 1, 1)]
        for stream, start, n_in, n_out in crossings:
            conn.execute(text(
                "INSERT INTO line_crossings (stream_id, window_start, model, line_id, line_version, object_class, "
                "window_end, crossings_in, crossings_out) VALUES (:s, :w, 'm', :l, 1, 'person', :e, :i, :o)"),
                {"s": stream, "w": start, "e": start + timedelta(minutes=10), "l": lines[stream], "i": n_in,
                 "o": n_out})
        conn.execute(text(
            "INSERT INTO zone_occupancy (stream_id, window_start, model, zone_id, zone_version, object_class, "
            "window_end, frames, detections, mean_per_frame, max_per_frame, objects, dwell_seconds) VALUES "
            "(:s, :w, 'm', :z, 1, 'person', :e, 60, 90, 1.5, 3, 4, 70.0)"),
            {"s": busy, "w": H, "e": H + timedelta(minutes=10), "z": zone})
    as_of = (H + timedelta(hours=1, minutes=30)).isoformat()
    result = streamscope("dbt", "build", "--select", "+crossing_rankings", "+zone_occupancy_hours",
                         "--indirect-selection", "cautious",
                         "--vars", json.dumps({"as_of": as_of, "lookback_hours": 24, "min_frames": 10}))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "PASS assert_crossing_rankings_recomputed" in result.stdout
    with get_engine(runtime).connect() as conn:
        hours = conn.execute(text("SELECT stream_id, hour, crossings_in, crossings_out, line_name FROM "
                                  "line_crossing_hours WHERE stream_id = ANY(:s) ORDER BY 1"),
                             {"s": [busy, quiet]}).all()
        ranked = conn.execute(text("SELECT rank, stream_id, crossings_in, crossings_out, hours_observed, "
                                   "crossings_per_hour FROM crossing_rankings WHERE stream_id = ANY(:s) "
                                   "ORDER BY rank"), {"s": [busy, quiet]}).all()
        occupancy = conn.execute(text("SELECT detections, frames, mean_per_frame, dwell_seconds FROM "
                                      "zone_occupancy_hours WHERE stream_id = :s"), {"s": busy}).all()
    assert [tuple(r) for r in hours] == [(busy, H, 7, 3, "door"), (quiet, H, 1, 1, "door")]
    # busy: 10 crossings in 1 hour observed; quiet: 2 in 2 hours observed.
    assert [(r.stream_id, r.crossings_in, r.crossings_out, r.hours_observed, r.crossings_per_hour)
            for r in ranked] == [(busy, 7, 3, 1.0, 10.0), (quiet, 1, 1, 2.0, 1.0)]
    assert [tuple(r) for r in occupancy] == [(90, 360, 0.25, 70.0)]
