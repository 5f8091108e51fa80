"""Stream status and per-connection health in Postgres (``streams`` status columns, ``reader_sessions``).

Written every few seconds and at state changes, never per frame. Status changes lock the stream's row and
leave a stream a person paused alone, so a reader never overwrites "paused" with "reconnecting". Database
errors are logged and swallowed by the caller's policy: health is not worth losing frames over.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update

from core import registry
from core.db.engine import session_scope
from core.db.models import ACTIVE_STATUSES, ReaderSession, Stream, StreamStatus
from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class SessionHealth:
    """One row of ``reader_sessions``: one connection (or attempt) of a reader to a stream."""

    id: str
    stream_id: int
    started_at: datetime
    ended_at: datetime | None = None
    resolved_url: str | None = None
    startup_seconds: float | None = None
    frames_read: int = 0
    frames_published: int = 0
    stalls: int = 0
    reconnects: int = 0
    width: int | None = None
    height: int | None = None
    source_fps: float | None = None
    bitrate: int | None = None
    last_frame_at: datetime | None = None
    last_error: str | None = None
    end_reason: str | None = None

    def values(self) -> dict:
        data = asdict(self)
        data.pop("id")
        if data["last_error"]:
            data["last_error"] = data["last_error"][:2000]
        if data["resolved_url"]:
            data["resolved_url"] = data["resolved_url"][:4000]
        return data


@dataclass(frozen=True, slots=True)
class StreamTarget:
    """What a reader needs to know of a registered stream (a detached snapshot of the row)."""

    id: int
    url: str
    kind: str
    fps: float
    status: str
    is_live: bool | None


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: str | None  # the stream's status after the change; None: the stream was removed
    failed_sessions: int = 0


class HealthStore:
    def __init__(self, settings: Settings):
        self.settings = settings

    def targets(self, stream_ids: list[int] | None = None, *, active_only: bool = True) -> list[StreamTarget]:
        """Streams to read: the active ones, or the named ones (with their status, active or not)."""
        with session_scope(self.settings) as session:
            if stream_ids is None:
                streams = registry.active_streams(session)
            else:
                streams = list(session.scalars(select(Stream).where(Stream.id.in_(stream_ids)).order_by(Stream.id)))
                if active_only:
                    streams = [s for s in streams if s.status in ACTIVE_STATUSES]
            return [StreamTarget(s.id, s.url, s.kind, s.fps, s.status, s.is_live) for s in streams]

    def target(self, stream_id: int) -> StreamTarget | None:
        found = self.targets([stream_id], active_only=False)
        return found[0] if found else None

    def open_session(self, health: SessionHealth) -> None:
        with session_scope(self.settings) as session:
            session.add(ReaderSession(id=health.id, **health.values()))

    def write_session(self, health: SessionHealth) -> str | None:
        """Update the row; return the stream's current status (None when the stream was removed)."""
        with session_scope(self.settings) as session:
            session.execute(update(ReaderSession).where(ReaderSession.id == health.id).values(**health.values()))
            return session.scalar(select(Stream.status).where(Stream.id == health.stream_id))

    def set_status(
        self,
        stream_id: int,
        status: StreamStatus,
        reason: str | None = None,
        *,
        count_failure: bool = False,
        reset_failures: bool = False,
        seen_live: bool = False,
        only_from: set[str] | None = None,
    ) -> StatusChange:
        """Change a stream's status unless a person paused it (or it is not in ``only_from``).

        ``count_failure`` adds one to ``failed_sessions`` and turns the stream FAILED once it reaches
        ``settings.max_failed_sessions``; ``reset_failures`` zeroes it (a session delivered frames).
        """
        with session_scope(self.settings) as session:
            stream = session.scalar(select(Stream).where(Stream.id == stream_id).with_for_update())
            if stream is None:
                return StatusChange(None)
            if stream.status == StreamStatus.PAUSED or (only_from is not None and stream.status not in only_from):
                return StatusChange(stream.status, stream.failed_sessions)
            if seen_live and stream.is_live is not True:
                stream.is_live = True
            if reset_failures:
                stream.failed_sessions = 0
            if count_failure:
                stream.failed_sessions = (stream.failed_sessions or 0) + 1
                if registry.failed_too_often(stream.failed_sessions, self.settings.max_failed_sessions):
                    status = StreamStatus.FAILED
                    reason = f"{stream.failed_sessions} consecutive failed sessions; last: {reason}"
            registry.set_status(session, stream, status, reason[:2000] if reason else None)
            return StatusChange(stream.status, stream.failed_sessions)


def utcnow() -> datetime:
    return datetime.now(UTC)
