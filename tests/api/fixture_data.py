"""Known rows for the API tests (and the browser tests): five streams, sessions, a snapshot, mart rows.

Times are relative to ``base`` (the start of the current hour); the unit tests fix "now" at base + 30 min.
Expected figures in the tests are worked out by hand from these rows (mean = detections / frames).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, text

from core.db.models import Base
from tests.api.marts import insert_object_counts, insert_stream_hours

STREAMS = [
    dict(id=1, canonical_id="youtube:aaaaaaaaaaa", url="https://www.youtube.com/watch?v=aaaaaaaaaaa", kind="youtube",
         name="Times Square", title="Times Square live cam", channel="EarthCam", is_live=True, fps=1.0,
         status="live", status_reason=None),
    dict(id=2, canonical_id="hls:http://cams.example/shibuya.m3u8", url="http://cams.example/shibuya.m3u8",
         kind="hls", name="Shibuya Crossing", title=None, channel=None, is_live=True, fps=2.0, status="live",
         status_reason=None),
    dict(id=3, canonical_id="http:http://cams.example/harbour", url="http://cams.example/harbour", kind="http",
         name="Harbour cam", title="Harbour", channel=None, is_live=None, fps=1.0, status="paused",
         status_reason="paused by a person"),
    dict(id=4, canonical_id="rtsp:rtsp://cams.example/dead", url="rtsp://cams.example/dead", kind="rtsp",
         name="Dead cam", title=None, channel=None, is_live=True, fps=1.0, status="failed",
         status_reason="cannot connect to cams.example:554"),
    dict(id=5, canonical_id="youtube:bbbbbbbbbbb", url="https://www.youtube.com/watch?v=bbbbbbbbbbb", kind="youtube",
         name="Quiet street", title="A quiet street_100%", channel="Somebody", is_live=True, fps=1.0, status="live",
         status_reason=None),
]

# (stream, hour offset from base, frames, minutes observed)
HOURS = [
    (1, 0, 600, 10), (1, -1, 3600, 60), (1, -18, 1800, 30), (1, -78, 3600, 60),
    (2, 0, 1200, 20), (2, -8, 3600, 60),
    (3, -1, 1800, 30),
    (5, 0, 20, 1),
    (99, 0, 3600, 60),  # a removed stream whose mart rows dbt has not dropped yet: never shown
]
# (stream, hour offset, class, detections, max per frame, unique objects)
COUNTS = [
    (1, 0, "person", 1200, 5, 10), (1, 0, "traffic light", 600, 2, 2),
    (1, -1, "person", 10800, 8, 50), (1, -1, "traffic light", 3600, 2, 3), (1, -1, "car", 1800, 3, 20),
    (1, -1, "dog", 600, 1, 1),
    (1, -18, "person", 900, 2, 5),
    (1, -78, "person", 36000, 20, 100),
    (2, 0, "person", 6000, 9, 40),
    (2, -8, "person", 7200, 6, 30), (2, -8, "car", 3600, 4, 25),
    (3, -1, "traffic light", 5400, 4, 6), (3, -1, "person", 900, 1, 3), (3, -1, "dog", 180, 1, 1),
    (5, 0, "person", 100, 6, 2),
    (99, 0, "person", 99999, 50, 500),
]
# Minute windows of stream 1 in the source tables: (minute offset from base, frames)
WINDOWS = [(0, 60), (1, 60), (2, 60)]
# (minute offset, class, detections, max, unique)
WINDOW_COUNTS = [(0, "person", 120, 3, 4), (2, "person", 60, 1, 1), (1, "traffic light", 30, 1, 1)]


def current_base(now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0)


def snapshot_jpeg(colour: str = "orange") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def truncate_all(conn: Connection, schema: str) -> None:
    names = ", ".join(table.name for table in Base.metadata.sorted_tables)
    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    conn.execute(text(f"TRUNCATE {schema}.stream_hours, {schema}.object_counts, {schema}.stream_class_baselines"))


def seed(conn: Connection, schema: str, base: datetime, now: datetime | None = None) -> None:
    """Empty every table, then write the known rows (last frames and the snapshot a minute or two before now)."""
    now = now or base + timedelta(minutes=30)
    truncate_all(conn, schema)
    conn.execute(text(
        "INSERT INTO streams (id, canonical_id, url, kind, name, title, channel, is_live, fps, status, status_reason,"
        " created_at) VALUES (:id, :canonical_id, :url, :kind, :name, :title, :channel, :is_live, :fps, :status,"
        " :status_reason, :created_at)"),
        [{**s, "created_at": base - timedelta(days=10, hours=-s["id"])} for s in STREAMS])
    conn.execute(text("SELECT setval(pg_get_serial_sequence('streams', 'id'), (SELECT max(id) FROM streams))"))
    conn.execute(text(
        "INSERT INTO reader_sessions (id, stream_id, started_at, ended_at, startup_seconds, frames_read,"
        " frames_published, stalls, reconnects, width, height, source_fps, bitrate, last_frame_at, last_error)"
        " VALUES (:id, :stream_id, :started_at, :ended_at, :startup_seconds, :frames_read, :frames_published,"
        " :stalls, :reconnects, :width, :height, :source_fps, :bitrate, :last_frame_at, :last_error)"), [
        dict(id="sess-old", stream_id=1, started_at=base - timedelta(hours=20), ended_at=base - timedelta(hours=19),
             startup_seconds=3.0, frames_read=3600, frames_published=3600, stalls=0, reconnects=0, width=640,
             height=360, source_fps=25.0, bitrate=None, last_frame_at=base - timedelta(hours=19), last_error="EOF"),
        dict(id="sess-new", stream_id=1, started_at=base - timedelta(hours=2), ended_at=None, startup_seconds=1.2,
             frames_read=7000, frames_published=6990, stalls=2, reconnects=1, width=1280, height=720,
             source_fps=30.0, bitrate=2_500_000, last_frame_at=now - timedelta(minutes=1), last_error=None),
        dict(id="sess-s2", stream_id=2, started_at=base - timedelta(hours=9), ended_at=None, startup_seconds=0.8,
             frames_read=9000, frames_published=9000, stalls=5, reconnects=3, width=1920, height=1080,
             source_fps=29.97, bitrate=None, last_frame_at=now - timedelta(minutes=2), last_error="HTTP 503"),
    ])
    conn.execute(text(
        "INSERT INTO snapshots (stream_id, captured_at, jpeg, width, height, model, counts)"
        " VALUES (1, :at, :jpeg, 64, 36, 'yolo11n', CAST(:counts AS jsonb))"),
        {"at": now - timedelta(minutes=1), "jpeg": snapshot_jpeg(), "counts": '{"person": 2}'})
    insert_stream_hours(conn, schema, [
        dict(stream_id=s, hour=base + timedelta(hours=h), frames=f, windows=m, minutes_observed=float(m))
        for s, h, f, m in HOURS
    ])
    frames_at = {(s, h): f for s, h, f, _ in HOURS}
    insert_object_counts(conn, schema, [
        dict(stream_id=s, object_class=c, hour=base + timedelta(hours=h), frames=frames_at[(s, h)], detections=d,
             mean_per_frame=d / frames_at[(s, h)], max_per_frame=mx, unique_objects=u)
        for s, h, c, d, mx, u in COUNTS
    ])
    conn.execute(text(
        "INSERT INTO frame_windows (stream_id, window_start, model, window_end, frames, sessions, first_capture_at,"
        " last_capture_at) VALUES (1, :start, 'yolo11n', :end, :frames, 1, :start, :end)"),
        [dict(start=base + timedelta(minutes=m), end=base + timedelta(minutes=m + 1), frames=f) for m, f in WINDOWS])
    conn.execute(text(
        "INSERT INTO object_stats (stream_id, window_start, model, object_class, window_end, class_id, frames,"
        " detections, mean_per_frame, max_per_frame, min_per_frame, unique_objects) VALUES (1, :start, 'yolo11n',"
        " :cls, :end, 0, 60, :det, :det / 60.0, :mx, 0, :uq)"),
        [dict(start=base + timedelta(minutes=m), end=base + timedelta(minutes=m + 1), cls=c, det=d, mx=mx, uq=u)
         for m, c, d, mx, u in WINDOW_COUNTS])
