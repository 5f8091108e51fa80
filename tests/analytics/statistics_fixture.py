"""A known statistics fixture (streams, frame_windows, object_stats, reader_sessions) and its hand-computed marts.

Times are UTC on 2026-11-20; windows last 10 minutes and process 10 frames each. The marts are built with
``as_of = 12:00`` and ``lookback_hours = 3``: hours 09:00, 10:00 and 11:00 are in the lookback, 08:00 is not.

- stream 1 Alpha (live): 08:00-11:59, every window. person everywhere; car in 3 windows only (the mean still
  divides by all frames); umbrella in two windows with zero detections (a class seen in no frame).
- stream 2 Bravo (live): up 09:00-10:29 only (down half the lookback), plus a 10:30 window with 0 frames.
- stream 3 Charlie (paused): 20 frames only: below min_frames (30), so missing from video_rankings.
- stream 4 Delta (live): 10:30-11:59, 90 frames like Bravo: ties with Bravo on traffic light (stream id decides).
- stream 5 Echo (failed): three failed reader sessions, no frames.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

DAY = datetime(2026, 11, 20, tzinfo=UTC)
AS_OF = "2026-11-20T12:00:00+00:00"
LOOKBACK_HOURS = 3
WINDOW = timedelta(minutes=10)
FRAMES_PER_WINDOW = 10
MODEL = "yolo11n"
MARTS = ("stream_hours", "object_counts", "stream_class_baselines")  # tables; the other marts are views on them
CLASS_IDS = {"person": 0, "car": 2, "traffic light": 9, "umbrella": 25}


def at(hhmm: str, seconds: int = 0) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return DAY + timedelta(hours=hours, minutes=minutes, seconds=seconds)


@dataclass
class Window:
    stream_id: int
    start: str  # "HH:MM"
    frames: int = FRAMES_PER_WINDOW
    # class -> (detections, max_per_frame, unique_objects)
    classes: dict[str, tuple[int, int, int]] = field(default_factory=dict)


STREAMS = [
    (1, "Alpha", "live"),
    (2, "Bravo", "live"),
    (3, "Charlie", "paused"),
    (4, "Delta", "live"),
    (5, "Echo", "failed"),
]


def _hour(stream_id: int, hour: int, classes_for_minute) -> list[Window]:
    return [Window(stream_id, f"{hour:02d}:{m:02d}", classes=classes_for_minute(m)) for m in range(0, 60, 10)]


def windows() -> list[Window]:
    rows: list[Window] = []
    # Alpha: person 1/frame at 08 (outside the lookback), 2/frame at 09, 3/frame at 10, 1/frame at 11.
    rows += _hour(1, 8, lambda m: {"person": (10, 2, 0)})
    rows += _hour(1, 9, lambda m: {"person": (20, 3, 2), **({"car": (5, 1, 1)} if m in (0, 10) else {})})
    rows += _hour(1, 10, lambda m: {"person": (30, 4, 1)})
    rows += _hour(1, 11, lambda m: {
        "person": (10, 2, 0),
        **({"car": (6, 2, 3)} if m == 50 else {}),
        **({"umbrella": (0, 0, 0)} if m in (0, 10) else {}),
    })  # fmt: skip
    # Bravo: 09:00-10:29, person 4/frame, traffic light in three windows, car once; 10:30 processed no frame.
    rows += _hour(2, 9, lambda m: {"person": (40, 6, 1), **({"traffic light": (9, 1, 1)} if m < 30 else {})})
    rows += [Window(2, f"10:{m:02d}", classes={"person": (40, 6, 1), **({"car": (8, 2, 1)} if m == 0 else {})})
             for m in (0, 10, 20)]
    rows.append(Window(2, "10:30", frames=0))
    # Charlie: two windows, 5 people per frame.
    rows += [Window(3, f"11:{m:02d}", classes={"person": (50, 7, 1)}) for m in (0, 10)]
    # Delta: 10:30-11:59, traffic light once (27 in 90 frames, like Bravo).
    rows += [Window(4, f"10:{m:02d}") for m in (30, 40, 50)]
    rows += _hour(4, 11, lambda m: {"traffic light": (27, 3, 1)} if m == 20 else {})
    return rows


# (session id, stream, started, reconnects, last_frame_at)
SESSIONS = [
    ("s1-early", 1, at("08:00"), 5, at("09:59", 59)),  # started before the lookback: not counted
    ("s1-main", 1, at("09:30"), 2, at("11:59", 30)),
    ("s2-a", 2, at("09:00"), 1, at("10:29")),
    ("s2-b", 2, at("10:25"), 3, None),
    ("s4-a", 4, at("10:28"), 0, at("11:59", 55)),
    ("s5-a", 5, at("09:00"), 0, None),
    ("s5-b", 5, at("10:00"), 0, None),
    ("s5-c", 5, at("11:00"), 0, None),
]


def insert_windows(conn, rows: list[Window], written_at_window_end: bool = False) -> None:
    """Write frame_windows and object_stats rows, stamped now() or, as the aggregator would have written them
    at the time, 10 s after the window's end."""
    stamp = ":end + interval '10 seconds'" if written_at_window_end else "now()"
    for w in rows:
        start = at(w.start)
        common = dict(stream_id=w.stream_id, start=start, end=start + WINDOW, model=MODEL)
        conn.execute(
            text(
                "INSERT INTO frame_windows (stream_id, window_start, model, window_end, frames, sessions, "
                "first_capture_at, last_capture_at, updated_at) VALUES (:stream_id, :start, :model, :end, :frames, "
                f"1, :start, :last, {stamp})"
            ),
            {**common, "frames": w.frames, "last": start + WINDOW - timedelta(seconds=10)},
        )
        for name, (detections, max_per_frame, unique) in w.classes.items():
            conn.execute(
                text(
                    "INSERT INTO object_stats (stream_id, window_start, model, object_class, window_end, class_id, "
                    "frames, detections, mean_per_frame, max_per_frame, min_per_frame, unique_objects, updated_at) "
                    "VALUES (:stream_id, :start, :model, :cls, :end, :cid, :frames, :det, :mean, :max, 0, :uniq, "
                    f"{stamp})"
                ),
                {**common, "cls": name, "cid": CLASS_IDS[name], "frames": w.frames, "det": detections,
                 "mean": detections / w.frames, "max": max_per_frame, "uniq": unique},
            )


def load(engine) -> None:
    """Empty the pipeline's tables and the marts, then write the fixture."""
    with engine.begin() as conn:
        conn.execute(text(
            "TRUNCATE streams, reader_sessions, frame_windows, object_stats, late_detections, snapshots "
            "RESTART IDENTITY CASCADE"
        ))
        for mart in MARTS:  # the views on them go with them (CASCADE)
            conn.execute(text(f"DROP TABLE IF EXISTS {mart} CASCADE"))
        for stream_id, name, status in STREAMS:
            conn.execute(
                text(
                    "INSERT INTO streams (id, canonical_id, url, kind, name, fps, status) "
                    "VALUES (:id, :cid, :url, 'hls', :name, 1.0, :status)"
                ),
                {"id": stream_id, "cid": f"hls:test-{stream_id}", "url": f"http://127.0.0.1/{stream_id}.m3u8",
                 "name": name, "status": status},
            )
        conn.execute(text("SELECT setval('streams_id_seq', 100)"))
        for session_id, stream_id, started, reconnects, last_frame in SESSIONS:
            conn.execute(
                text(
                    "INSERT INTO reader_sessions (id, stream_id, started_at, reconnects, last_frame_at) "
                    "VALUES (:id, :stream_id, :started, :reconnects, :last)"
                ),
                {"id": session_id, "stream_id": stream_id, "started": started, "reconnects": reconnects,
                 "last": last_frame},
            )
        insert_windows(conn, windows(), written_at_window_end=True)


# The fixture's ranking window is 3 h; min_detections 0 keeps the zero-detection class (umbrella) in the rankings.
DBT_VARS = {"as_of": AS_OF, "lookback_hours": LOOKBACK_HOURS, "min_detections": 0}


def dbt_vars() -> str:
    return json.dumps(DBT_VARS)


# ------------------------------------------------------------------------------------ hand-computed marts
H = {h: at(f"{h:02d}:00") for h in range(8, 14)}

# (stream, hour) -> (frames, windows, minutes_observed)
STREAM_HOURS = {
    (1, H[8]): (60, 6, 60.0), (1, H[9]): (60, 6, 60.0), (1, H[10]): (60, 6, 60.0), (1, H[11]): (60, 6, 60.0),
    (2, H[9]): (60, 6, 60.0), (2, H[10]): (30, 3, 30.0),  # the 10:30 window had no frame
    (3, H[11]): (20, 2, 20.0),
    (4, H[10]): (30, 3, 30.0), (4, H[11]): (60, 6, 60.0),
}  # fmt: skip

# (stream, class, hour) -> (frames, detections, mean_per_frame, max_per_frame, unique_objects)
OBJECT_COUNTS = {
    (1, "person", H[8]): (60, 60, 1.0, 2, 0),
    (1, "person", H[9]): (60, 120, 2.0, 3, 12),
    (1, "car", H[9]): (60, 10, 10 / 60, 1, 2),
    (1, "person", H[10]): (60, 180, 3.0, 4, 6),
    (1, "person", H[11]): (60, 60, 1.0, 2, 0),
    (1, "car", H[11]): (60, 6, 0.1, 2, 3),
    (1, "umbrella", H[11]): (60, 0, 0.0, 0, 0),
    (2, "person", H[9]): (60, 240, 4.0, 6, 6),
    (2, "traffic light", H[9]): (60, 27, 0.45, 1, 3),
    (2, "person", H[10]): (30, 120, 4.0, 6, 3),
    (2, "car", H[10]): (30, 8, 8 / 30, 2, 1),
    (3, "person", H[11]): (20, 100, 5.0, 7, 2),
    (4, "traffic light", H[11]): (60, 27, 0.45, 3, 1),
}

# class -> [(rank, stream, mean_per_frame, max_per_frame, unique_objects, frames, minutes_observed)]
VIDEO_RANKINGS = {
    "car": [(1, 1, 16 / 180, 2, 5, 180, 180.0), (2, 2, 8 / 90, 2, 1, 90, 90.0)],  # equal means: frames decide
    "person": [(1, 2, 4.0, 6, 9, 90, 90.0), (2, 1, 2.0, 4, 18, 180, 180.0)],  # Charlie (20 frames) left out
    "traffic light": [(1, 2, 0.3, 1, 3, 90, 90.0), (2, 4, 0.3, 3, 1, 90, 90.0)],  # full tie: stream id decides
    "umbrella": [(1, 1, 0.0, 0, 0, 180, 180.0)],
}

# class -> (rank, mean_per_frame, detections, frames, streams); 380 frames of all streams in the lookback
OVERALL = {
    "person": (1, 820 / 380, 820, 380, 3),
    "traffic light": (2, 54 / 380, 54, 380, 2),
    "car": (3, 24 / 380, 24, 380, 2),
}  # umbrella: no detection in the lookback, not ranked

