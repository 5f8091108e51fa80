"""The stream registry: register, list, pause, resume, update and remove streams.

One implementation for the CLI, the API and the DAGs. Validation happens before anything is written, so a
refused input leaves the database unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db.models import ACTIVE_STATUSES, ReaderSession, Stream, StreamStatus
from core.probe import StreamInfo, StreamUnreachable, probe
from core.source_policy import SourcePolicy, SourceRefused
from core.stream_urls import InvalidStreamURL, StreamRef, parse_stream_url

MAX_NAME_LENGTH = 200
Prober = Callable[[StreamRef, float], StreamInfo]


class RegistryError(Exception):
    """Base of the registry's refusals; ``field`` names the input at fault when there is one."""

    def __init__(self, reason: str, field: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.field = field


class InvalidInput(RegistryError):
    pass


class DuplicateStream(RegistryError):
    pass


class StreamNotFound(RegistryError):
    pass


def validate_name(name: str | None) -> str | None:
    if name is None:
        return None
    cleaned = name.strip()
    if not cleaned:
        raise InvalidInput("the name is empty", "name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInput(f"the name is longer than {MAX_NAME_LENGTH} characters", "name")
    if any(ord(ch) < 32 for ch in cleaned):
        raise InvalidInput("the name contains control characters", "name")
    return cleaned


def validate_fps(fps: float | None) -> float | None:
    if fps is None:
        return None
    if not isinstance(fps, int | float) or isinstance(fps, bool) or not math.isfinite(fps) or not 0 < fps <= 30:
        raise InvalidInput("fps must be a number above 0 and at most 30", "fps")
    return float(fps)


def register(
    session: Session,
    url: str,
    *,
    name: str | None = None,
    fps: float | None = None,
    default_fps: float = 1.0,
    check: bool = True,
    timeout_s: float = 15.0,
    prober: Prober = probe,
    policy: SourcePolicy | None = None,
) -> Stream:
    """Validate, optionally probe, and store a new stream. Raises a :class:`RegistryError` subclass.

    ``policy`` (default: public sources only) is checked before anything else touches the network: the
    probe never connects to a refused address, and with ``check`` the host is resolved and checked first.
    """
    policy = policy or SourcePolicy()
    try:
        ref = parse_stream_url(url)
        policy.check_url(ref.url)
    except (InvalidStreamURL, SourceRefused) as bad:
        raise InvalidInput(bad.reason, "url") from None
    name = validate_name(name)
    fps = validate_fps(fps)
    if session.scalar(select(Stream.id).where(Stream.canonical_id == ref.canonical_id)) is not None:
        raise DuplicateStream(f"{ref.canonical_id} is already registered", "url")
    info = StreamInfo(title=None, channel=None, is_live=None)
    if check:
        try:
            policy.check_connect(ref.url)
        except SourceRefused as refused:
            raise InvalidInput(refused.reason, "url") from None
        try:
            info = probe(ref, timeout_s, policy) if prober is probe else prober(ref, timeout_s)
        except StreamUnreachable as unreachable:
            raise InvalidInput(f"cannot read this stream: {unreachable.reason}", "url") from None
    stream = Stream(
        canonical_id=ref.canonical_id,
        url=ref.url,
        kind=ref.kind.value,
        name=name or info.title or ref.canonical_id,
        title=info.title,
        channel=info.channel,
        is_live=info.is_live,
        fps=fps or default_fps,
        status=StreamStatus.PENDING.value,
    )
    session.add(stream)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise DuplicateStream(f"{ref.canonical_id} is already registered", "url") from None
    return stream


def get(session: Session, stream_id: int) -> Stream:
    stream = session.get(Stream, stream_id)
    if stream is None:
        raise StreamNotFound(f"no stream with id {stream_id}")
    return stream


def list_streams(
    session: Session,
    *,
    statuses: Sequence[str] | None = None,
    query: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Stream], int]:
    """Streams ordered by id, filtered by status and a case-insensitive text match; with the total count."""
    conditions: list[ColumnElement[bool]] = []
    if statuses:
        conditions.append(Stream.status.in_(list(statuses)))
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            Stream.name.ilike(pattern) | Stream.title.ilike(pattern) | Stream.canonical_id.ilike(pattern)
        )
    total = session.scalar(select(func.count()).select_from(Stream).where(*conditions)) or 0
    stmt = select(Stream).where(*conditions).order_by(Stream.id).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt)), total


def failed_too_often(failed_sessions: int | None, max_failed_sessions: int) -> bool:
    """The rule that deactivates a stream: ``max_failed_sessions`` failed reader sessions in a row (the reader
    counts them as they happen, the maintenance DAG also from the sessions' history)."""
    return (failed_sessions or 0) >= max_failed_sessions


def active_streams(session: Session) -> list[Stream]:
    """Streams a reader should open: neither paused, ended nor failed."""
    stmt = select(Stream).where(
        Stream.status.in_(sorted(ACTIVE_STATUSES))
    )
    return list(session.scalars(stmt.order_by(Stream.id)))


def set_status(session: Session, stream: Stream, status: StreamStatus, reason: str | None = None) -> None:
    if stream.status != status.value or stream.status_reason != reason:
        stream.status = status.value
        stream.status_reason = reason
        stream.status_changed_at = datetime.now(UTC)


def pause(session: Session, stream_id: int) -> Stream:
    stream = get(session, stream_id)
    set_status(session, stream, StreamStatus.PAUSED, "paused by a person")
    return stream


def resume(session: Session, stream_id: int) -> Stream:
    """Back to pending, whatever it was (paused, ended, failed): the next reader run tries it again."""
    stream = get(session, stream_id)
    set_status(session, stream, StreamStatus.PENDING, None)
    stream.failed_sessions = 0
    return stream


def update(session: Session, stream_id: int, *, name: str | None = None, fps: float | None = None) -> Stream:
    stream = get(session, stream_id)
    name, fps = validate_name(name), validate_fps(fps)
    if name is not None:
        stream.name = name
    if fps is not None:
        stream.fps = fps
    return stream


def remove(session: Session, stream_id: int) -> None:
    """Delete the stream and, by cascade, its sessions, statistics and snapshot."""
    get(session, stream_id)
    session.execute(delete(Stream).where(Stream.id == stream_id))


def latest_session(session: Session, stream_id: int) -> ReaderSession | None:
    stmt = (
        select(ReaderSession)
        .where(ReaderSession.stream_id == stream_id)
        .order_by(ReaderSession.started_at.desc())
        .limit(1)
    )
    return session.scalar(stmt)
