"""Write a generated history (tests/alerts/synthetic_history.py) into the pipeline's tables, with COPY.

What the pipeline would have written: streams (live), reader_sessions, frame_windows (one model) and object_stats
(only classes seen in a window, as the aggregator writes them). Every table is emptied first.
"""

from __future__ import annotations

from core.db.models import Base
from tests.alerts.synthetic_history import History

MODEL = "yolo11n"
CLASS_IDS = {"person": 0, "bicycle": 1, "car": 2, "truck": 7, "dog": 16, "umbrella": 25}


def write_history(database_url: str, history: History) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=False) as conn:
        names = ", ".join(table.name for table in Base.metadata.sorted_tables)
        conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        with conn.cursor().copy("COPY streams (id, canonical_id, url, kind, name, fps, status) FROM STDIN") as copy:
            for spec in history.streams:
                copy.write_row((spec.stream_id, f"hls:synthetic-{spec.stream_id}",
                                f"http://127.0.0.1/synthetic/{spec.stream_id}.m3u8", "hls", spec.name, 1.0, "live"))
        conn.execute("SELECT setval(pg_get_serial_sequence('streams', 'id'), (SELECT max(id) FROM streams))")
        with conn.cursor().copy("COPY reader_sessions (id, stream_id, started_at, ended_at, last_frame_at) "
                                "FROM STDIN") as copy:
            for s in history.sessions:
                copy.write_row((s.id, s.stream_id, s.started_at, s.ended_at, s.last_frame_at))
        with conn.cursor().copy("COPY frame_windows (stream_id, window_start, model, window_end, frames, "
                                "first_capture_at, last_capture_at) FROM STDIN") as copy:
            for w in history.windows:
                copy.write_row((w.stream_id, w.start, MODEL, w.end, w.frames, w.start, w.end))
        with conn.cursor().copy("COPY object_stats (stream_id, window_start, model, object_class, window_end, "
                                "class_id, frames, detections, mean_per_frame, max_per_frame, min_per_frame) "
                                "FROM STDIN") as copy:
            for w in history.windows:
                for cls, count in w.detections.items():
                    if count:
                        copy.write_row((w.stream_id, w.start, MODEL, cls, w.end, CLASS_IDS.get(cls, 99), w.frames,
                                        count, count / w.frames, w.max_per_frame[cls], 0))
        conn.commit()
        conn.execute("ANALYZE")
