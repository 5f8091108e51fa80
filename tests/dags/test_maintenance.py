"""stream_maintenance's work against the real database: metadata refreshed from a live HLS stream (yt-dlp),
failing streams deactivated with the reason, statistics past the retention period deleted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from core import registry
from core.db.engine import session_scope
from core.db.models import FrameWindow, LiveEvent, ObjectStat, ReaderSession, Stream
from core.probe import StreamInfo
from core.source_policy import SourcePolicy
from dags import maintenance_tasks
from stream_reader.testsrc import LiveHLSSource

LOCAL = SourcePolicy(allow_local=True)  # the test streams are on 127.0.0.1


def add(session, url: str, **values) -> Stream:
    stream = registry.register(session, url, check=False, policy=LOCAL)
    for key, value in values.items():
        setattr(stream, key, value)
    session.flush()
    return stream


def test_refresh_metadata_from_a_live_stream(runtime, clean_tables):
    with LiveHLSSource("colors", width=320, height=180, fps=10) as source, session_scope(runtime) as session:
        live = add(session, source.url, title=None, is_live=None)
        paused = add(session, "http://127.0.0.1:9/paused.m3u8", status="paused")
        gone = add(session, "http://127.0.0.1:9/gone.m3u8", title="kept")
        summary = maintenance_tasks.refresh_metadata(session, timeout_s=10)
    assert summary == {"refreshed": 1, "unreachable": 1}
    with session_scope(runtime) as session:
        refreshed = session.get(Stream, live.id)
        assert refreshed.is_live is True and refreshed.title  # yt-dlp's generic extractor on the live playlist
        assert session.get(Stream, gone.id).title == "kept"
        assert session.get(Stream, paused.id).title is None


def test_refresh_metadata_keeps_status_and_uses_the_prober(runtime, clean_tables):
    calls = []

    def prober(ref, timeout_s):
        calls.append(ref.url)
        return StreamInfo(title="Live cam", channel="Channel", is_live=False)

    with session_scope(runtime) as session:
        stream = add(session, "https://www.youtube.com/watch?v=dQw4w9WgXcQ", status="ended")
        maintenance_tasks.refresh_metadata(session, timeout_s=1, prober=prober)
        assert (stream.title, stream.channel, stream.is_live, stream.status) == ("Live cam", "Channel", False, "ended")
    assert calls == ["https://www.youtube.com/watch?v=dQw4w9WgXcQ"]


def test_deactivate_streams_that_keep_failing(runtime, clean_tables):
    now = datetime.now(UTC)
    with session_scope(runtime) as session:
        counted = add(session, "http://127.0.0.1:9/a.m3u8", status="reconnecting", failed_sessions=3)
        history = add(session, "http://127.0.0.1:9/b.m3u8", status="live")
        recovering = add(session, "http://127.0.0.1:9/c.m3u8", status="live")
        paused = add(session, "http://127.0.0.1:9/d.m3u8", status="paused", failed_sessions=9)
        for stream, published in ((history, [0, 0, 0]), (recovering, [0, 12, 0])):
            for i, frames in enumerate(published):  # newest first
                session.add(ReaderSession(
                    id=str(uuid.uuid4()), stream_id=stream.id, started_at=now - timedelta(minutes=10 * (i + 1)),
                    ended_at=now - timedelta(minutes=10 * i + 5), frames_published=frames,
                    last_error="HTTP 404" if i == 0 else None, end_reason="failed",
                ))
        session.flush()
        deactivated = maintenance_tasks.deactivate_failing(session, max_failed_sessions=3)
    assert deactivated == [counted.id, history.id]
    with session_scope(runtime) as session:
        statuses = {s.id: (s.status, s.status_reason) for s in session.scalars(select(Stream))}
    assert statuses[counted.id] == ("failed", "3 failed reader sessions in a row")
    assert statuses[history.id] == ("failed", "3 failed reader sessions in a row; last: HTTP 404")
    assert statuses[recovering.id] == ("live", None)
    assert statuses[paused.id][0] == "paused"


def test_delete_statistics_past_retention(runtime, clean_tables):
    now = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
    with session_scope(runtime) as session:
        stream = add(session, "http://127.0.0.1:9/a.m3u8")
        for days in (40, 31, 29, 1):
            start = now - timedelta(days=days)
            session.add(FrameWindow(stream_id=stream.id, window_start=start, model="m", window_end=start,
                                    frames=10, first_capture_at=start, last_capture_at=start))
            session.add(ObjectStat(stream_id=stream.id, window_start=start, model="m", object_class="person",
                                   window_end=start, class_id=0, frames=10, detections=1, mean_per_frame=0.1,
                                   max_per_frame=1, min_per_frame=0))
        session.add(ReaderSession(id="old", stream_id=stream.id, started_at=now - timedelta(days=35),
                                  ended_at=now - timedelta(days=34)))
        session.add(ReaderSession(id="open", stream_id=stream.id, started_at=now - timedelta(days=35)))
        for mart in maintenance_tasks.HOURLY_MARTS:  # stand-ins for the dbt marts (built or not by other tests)
            session.execute(text(f"DROP TABLE IF EXISTS {mart} CASCADE"))
            session.execute(text(f"CREATE TABLE {mart} (stream_id int, hour timestamptz)"))
            session.execute(text(f"INSERT INTO {mart} VALUES (:s, :a), (:s, :b), (:s, :c)"), {
                "s": stream.id, "a": now - timedelta(days=31), "b": now - timedelta(days=29),
                "c": (now - timedelta(days=30)).replace(minute=0),  # the hour of the cut-off stays
            })
        session.add(LiveEvent(stream_id=stream.id, kind="status", payload={}, created_at=now - timedelta(hours=2)))
        deleted = maintenance_tasks.delete_old_statistics(session, retention_days=30, now=now)
        # The windows written above logged live events "now" (the real now, later than the test's): they stay.
        assert deleted == {"object_stats": 2, "frame_windows": 2, "late_detections": 0, "reader_sessions": 1,
                           "live_events": 1, "stream_hours": 1, "object_counts": 1}
        assert session.scalar(select(func.count()).select_from(ObjectStat)) == 2
        assert session.scalar(select(func.count()).select_from(ReaderSession)) == 1  # the open one stays
        for mart in maintenance_tasks.HOURLY_MARTS:
            session.execute(text(f"DROP TABLE {mart}"))
