"""The stream_maintenance DAG's work, apart from Airflow: refresh metadata, deactivate failing streams, and
delete statistics past the retention period. Each function takes a SQLAlchemy session and returns a summary."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, inspect, select, text
from sqlalchemy.orm import Session

from core import registry
from core.db.models import (
    ACTIVE_STATUSES,
    FrameWindow,
    LateDetection,
    LiveEvent,
    ObjectStat,
    ReaderSession,
    Stream,
    StreamStatus,
)
from core.probe import StreamInfo, StreamUnreachable, probe
from core.settings import get_settings
from core.source_policy import SourcePolicy, SourceRefused
from core.stream_urls import InvalidStreamURL, parse_stream_url

log = logging.getLogger(__name__)

# Marts that keep per-hour rows: old hours go with the statistics they came from.
HOURLY_MARTS = ("stream_hours", "object_counts")


def refresh_metadata(
    session: Session, *, timeout_s: float, prober: Callable = probe, workers: int = 4,
    policy: SourcePolicy | None = None,
) -> dict[str, int]:
    """Probe every stream that is not paused or failed (yt-dlp for YouTube/HLS) and store its title, channel
    and liveness; an unreachable stream keeps its metadata (the reader decides about failures).

    The source policy (default: the settings') is checked again first: a stored name may resolve elsewhere
    now (DNS rebinding), and this probe runs inside the deployment's network."""
    policy = policy or SourcePolicy.from_settings(get_settings())
    streams = list(session.scalars(select(Stream).where(Stream.status.not_in(
        [StreamStatus.PAUSED.value, StreamStatus.FAILED.value]
    )).order_by(Stream.id)))  # fmt: skip

    def check(url: str) -> StreamInfo | str:
        try:
            policy.check_connect(url)
            return prober(parse_stream_url(url), timeout_s)
        except (StreamUnreachable, InvalidStreamURL, SourceRefused) as error:
            return getattr(error, "reason", str(error))

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="probe") as pool:
        results = list(pool.map(check, [stream.url for stream in streams]))
    refreshed = unreachable = 0
    for stream, info in zip(streams, results, strict=True):
        if isinstance(info, str):
            unreachable += 1
            log.warning("stream %s: metadata not refreshed: %s", stream.id, info)
            continue
        refreshed += 1
        stream.title = info.title or stream.title
        stream.channel = info.channel or stream.channel
        if info.is_live is not None:
            stream.is_live = info.is_live
    return {"refreshed": refreshed, "unreachable": unreachable}


def deactivate_failing(session: Session, *, max_failed_sessions: int) -> list[int]:
    """Mark FAILED (with the reason) the active streams whose last ``max_failed_sessions`` sessions all failed:
    by the reader's counter of consecutive failed sessions, or by the history of ended sessions that
    published no frame. Returns the ids deactivated."""
    deactivated = []
    for stream in session.scalars(select(Stream).where(Stream.status.in_(sorted(ACTIVE_STATUSES))).order_by(Stream.id)):
        recent = list(session.scalars(
            select(ReaderSession).where(ReaderSession.stream_id == stream.id, ReaderSession.ended_at.is_not(None))
            .order_by(ReaderSession.started_at.desc()).limit(max_failed_sessions)
        ))  # fmt: skip
        in_a_row = len(recent) if all(s.frames_published == 0 for s in recent) else 0
        history_failed = registry.failed_too_often(in_a_row, max_failed_sessions)
        if not history_failed and not registry.failed_too_often(stream.failed_sessions, max_failed_sessions):
            continue
        last_error = next((s.last_error or s.end_reason for s in recent if s.last_error or s.end_reason), None)
        count = max(stream.failed_sessions or 0, len(recent) if history_failed else 0)
        reason = f"{count} failed reader sessions in a row" + (f"; last: {last_error}" if last_error else "")
        registry.set_status(session, stream, StreamStatus.FAILED, reason[:1000])
        deactivated.append(stream.id)
        log.warning("stream %s deactivated: %s", stream.id, reason)
    return deactivated


def delete_old_statistics(session: Session, *, retention_days: int, now: datetime | None = None,
                          live_retention_minutes: int = 60) -> dict[str, int]:
    """Delete statistics, late detections and finished reader sessions older than ``retention_days``, and the
    marts' rows of those hours (whole hours before the cut-off only); live-update events older than
    ``live_retention_minutes`` (an API with open event streams prunes them too, a Lambda-only one never)."""
    current = now or datetime.now(UTC)
    cutoff = current - timedelta(days=retention_days)
    hour_cutoff = cutoff.replace(minute=0, second=0, microsecond=0)
    deleted = {
        "object_stats": session.execute(delete(ObjectStat).where(ObjectStat.window_start < cutoff)).rowcount,
        "frame_windows": session.execute(delete(FrameWindow).where(FrameWindow.window_start < cutoff)).rowcount,
        "late_detections": session.execute(
            delete(LateDetection).where(LateDetection.capture_time < cutoff)
        ).rowcount,
        "reader_sessions": session.execute(delete(ReaderSession).where(
            func.coalesce(ReaderSession.ended_at, ReaderSession.started_at) < cutoff,
            ReaderSession.ended_at.is_not(None),
        )).rowcount,
        "live_events": session.execute(delete(LiveEvent).where(
            LiveEvent.created_at < current - timedelta(minutes=live_retention_minutes))).rowcount,
    }  # fmt: skip
    existing = set(inspect(session.connection()).get_table_names())
    for mart in HOURLY_MARTS:
        if mart in existing:
            result = session.execute(text(f"DELETE FROM {mart} WHERE hour < :cutoff"), {"cutoff": hour_cutoff})
            deleted[mart] = result.rowcount
    return deleted
