"""SQLAlchemy 2 models: the tables every component reads or writes.

The aggregator owns ``object_stats``, ``frame_windows`` and ``late_detections``; the reader owns
``reader_sessions`` and the status columns of ``streams``; the detector owns ``snapshots``. Changes go
through Alembic migrations in ``core/db/migrations``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class StreamStatus(StrEnum):
    """Lifecycle of a registered stream, as shown in ``streams list`` and the UI."""

    PENDING = "pending"  # registered (or resumed), no reader has connected yet
    LIVE = "live"  # a reader is receiving frames
    RECONNECTING = "reconnecting"  # the connection dropped; backing off before the next try
    ENDED = "ended"  # the broadcast ended; never reopened in a loop
    FAILED = "failed"  # could not be read; ``status_reason`` says why
    PAUSED = "paused"  # paused by a person; readers skip it


# The statuses a reader should open (neither paused, ended nor failed). StrEnum members hash like their values,
# so ``"live" in ACTIVE_STATUSES`` holds too.
ACTIVE_STATUSES = frozenset({StreamStatus.PENDING, StreamStatus.LIVE, StreamStatus.RECONNECTING})


class SourceKind(StrEnum):
    YOUTUBE = "youtube"
    HLS = "hls"
    HTTP = "http"
    RTSP = "rtsp"
    FILE = "file"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


TZ = DateTime(timezone=True)


class Stream(Base):
    __tablename__ = "streams"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s.value}'" for s in StreamStatus) + ")", name="status_valid"
        ),
        CheckConstraint("fps > 0 AND fps <= 30", name="fps_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    canonical_id: Mapped[str] = mapped_column(String(300), unique=True)
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(Text)
    is_live: Mapped[bool | None] = mapped_column(Boolean)
    fps: Mapped[float] = mapped_column(Float, default=1.0)
    status: Mapped[str] = mapped_column(String(16), default=StreamStatus.PENDING.value, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    failed_sessions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


class ReaderSession(Base):
    """One connection of a reader to a stream, with the health figures it recorded."""

    __tablename__ = "reader_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(TZ)
    ended_at: Mapped[datetime | None] = mapped_column(TZ)
    resolved_url: Mapped[str | None] = mapped_column(Text)
    startup_seconds: Mapped[float | None] = mapped_column(Float)
    frames_read: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    frames_published: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    stalls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reconnects: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    source_fps: Mapped[float | None] = mapped_column(Float)
    bitrate: Mapped[int | None] = mapped_column(BigInteger)
    last_frame_at: Mapped[datetime | None] = mapped_column(TZ)
    last_error: Mapped[str | None] = mapped_column(Text)
    end_reason: Mapped[str | None] = mapped_column(String(32))


class FrameWindow(Base):
    """Frames processed per stream, model and window: the denominator of every mean (zeros included)."""

    __tablename__ = "frame_windows"
    __table_args__ = (Index("ix_frame_windows_window_start", "window_start"),)

    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(TZ, primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_end: Mapped[datetime] = mapped_column(TZ)
    frames: Mapped[int] = mapped_column(Integer)
    sessions: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    first_capture_at: Mapped[datetime] = mapped_column(TZ)
    last_capture_at: Mapped[datetime] = mapped_column(TZ)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


class ObjectStat(Base):
    """Per stream, window, model and class: occupancy figures and unique tracked objects."""

    __tablename__ = "object_stats"
    __table_args__ = (
        CheckConstraint("frames > 0 AND detections >= 0", name="counts_valid"),
        Index("ix_object_stats_class_window", "object_class", "window_start"),
    )

    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(TZ, primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    object_class: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_end: Mapped[datetime] = mapped_column(TZ)
    class_id: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer)
    detections: Mapped[int] = mapped_column(Integer)
    mean_per_frame: Mapped[float] = mapped_column(Float)
    max_per_frame: Mapped[int] = mapped_column(Integer)
    min_per_frame: Mapped[int] = mapped_column(Integer)
    unique_objects: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


class LateDetection(Base):
    """A detection message that arrived after its window was closed: counted here, never mixed in."""

    __tablename__ = "late_detections"

    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    capture_time: Mapped[datetime] = mapped_column(TZ)
    received_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class Snapshot(Base):
    """Latest annotated frame per stream (JPEG with boxes)."""

    __tablename__ = "snapshots"

    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    captured_at: Mapped[datetime] = mapped_column(TZ)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(100))
    counts: Mapped[dict] = mapped_column(JSONB, default=dict)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


class AggregatorSession(Base):
    """Aggregator state per (stream, reader session, model): the sequences already counted in closed windows.

    Written in the same transaction as the windows, so a replayed message of a written window is recognised as a
    duplicate after a restart (instead of being counted twice or taken for a late one)."""

    __tablename__ = "aggregator_sessions"

    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    seqs: Mapped[list] = mapped_column(JSONB)  # [[lo, hi], ...] inclusive ranges
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


class AggregatorTrack(Base):
    """A track id already counted as a unique object, and the window where it was first seen."""

    __tablename__ = "aggregator_tracks"

    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    object_class: Mapped[str] = mapped_column(String(100), primary_key=True)
    track_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    window_start: Mapped[datetime] = mapped_column(TZ)


class AggregatorOpenWindow(Base):
    """A snapshot of a window still open (its running counts, sequences and track ids), rewritten by each batch
    that adds to it, so that the batch can be acknowledged at once and a restart rebuilds the window. Deleted
    when the window is written; ``version`` fences off a process whose view of the stream is stale."""

    __tablename__ = "aggregator_open"

    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(TZ, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[dict] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


class AnomalyEvent(Base):
    """An episode in which a stream was unusual: a spike or drop of one class against its own baseline, or the
    stream down or frozen (``object_class`` is the empty string then).

    Written by the alerts component's anomaly job (an open episode has ``ended_at`` NULL and is updated while it
    lasts); read by alert rules, the API and the live updates. One row per (stream, class, kind, start)."""

    __tablename__ = "anomaly_events"
    __table_args__ = (
        CheckConstraint("kind IN ('spike', 'drop', 'down', 'frozen')", name="kind"),
        UniqueConstraint("stream_id", "object_class", "kind", "started_at", name="uq_anomaly_events_episode"),
        Index("ix_anomaly_events_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    object_class: Mapped[str] = mapped_column(String(100), default="", server_default="")
    kind: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(TZ)
    ended_at: Mapped[datetime | None] = mapped_column(TZ)
    observed: Mapped[float | None] = mapped_column(Float)
    expected: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


# --- alert rules and their delivery (alerts component; rules written through core.alert_rules) -------------------


class AlertRule(Base):
    """A person's rule: which streams (NULL = all), which class, what condition, and where to POST a firing.

    ``secret`` signs each delivery (HMAC-SHA256); it is shown once when the rule is created and never answered
    again by the API or the CLI."""

    __tablename__ = "alert_rules"
    __table_args__ = (
        CheckConstraint(
            "condition IN ('count_above', 'count_below', 'anomaly_score', 'stream_down')", name="condition"
        ),
        CheckConstraint("payload_format IN ('json', 'slack')", name="payload_format"),
        CheckConstraint("minutes >= 0 AND cooldown_s >= 0", name="durations"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    stream_ids: Mapped[list | None] = mapped_column(JSONB)  # NULL: every stream
    object_class: Mapped[str] = mapped_column(String(100), default="", server_default="")  # '' = any / none
    condition: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    webhook_url: Mapped[str] = mapped_column(Text)
    payload_format: Mapped[str] = mapped_column(String(8), default="json", server_default="json")
    secret: Mapped[str] = mapped_column(String(100))
    cooldown_s: Mapped[int] = mapped_column(Integer, default=600, server_default="600")
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


class AlertFiring(Base):
    """One episode of a rule on one stream (and class): at most one row per (rule, stream, episode key), so an
    episode is delivered once however often the evaluator sees it. ``last_seen_at`` is extended while the
    condition keeps holding, so a long episode seen again later is recognised as the same one."""

    __tablename__ = "alert_firings"
    __table_args__ = (
        UniqueConstraint("rule_id", "stream_id", "episode_key", name="uq_alert_firings_episode"),
        Index("ix_alert_firings_rule_fired", "rule_id", "fired_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    object_class: Mapped[str] = mapped_column(String(100), default="", server_default="")
    episode_key: Mapped[str] = mapped_column(String(200))
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)  # the receivers' idempotency id
    started_at: Mapped[datetime] = mapped_column(TZ)
    last_seen_at: Mapped[datetime] = mapped_column(TZ)
    fired_at: Mapped[datetime] = mapped_column(TZ)
    observed: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text)


class AlertOutbox(Base):
    """A firing's delivery, written in the firing's transaction (transactional outbox): a worker claims a due
    row with a lease, POSTs it and only then marks it delivered, so a worker killed mid-delivery loses nothing
    (the lease runs out and another worker sends it again: at-least-once, same idempotency id)."""

    __tablename__ = "alert_outbox"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'delivered', 'failed')", name="state"),
        Index("ix_alert_outbox_due", "state", "next_attempt_at"),
    )

    firing_id: Mapped[int] = mapped_column(ForeignKey("alert_firings.id", ondelete="CASCADE"), primary_key=True)
    body: Mapped[str] = mapped_column(Text)  # the exact bytes POSTed (UTF-8), the same on every attempt
    state: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(TZ)
    lease_until: Mapped[datetime | None] = mapped_column(TZ)
    delivered_at: Mapped[datetime | None] = mapped_column(TZ)
    last_error: Mapped[str | None] = mapped_column(Text)


class AlertDelivery(Base):
    """One attempt to POST a firing: written as ``sending`` before the request and completed after it, so an
    attempt cut short by a killed worker stays visible (``interrupted`` once another worker takes over)."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('sending', 'delivered', 'failed', 'interrupted')", name="status"),
        Index("ix_alert_deliveries_firing", "firing_id", "attempt"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    firing_id: Mapped[int] = mapped_column(ForeignKey("alert_firings.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(TZ)
    http_status: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)


class AggregatorClosedWindow(Base):
    """The full state of a written window (counts, sequences, track ids), kept up to the late-data horizon so
    that a detection arriving after the window was written updates its rows exactly once (issue 16)."""

    __tablename__ = "aggregator_closed"

    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(TZ, primary_key=True)
    state: Mapped[dict] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


# --- zones and counting lines (issue 21) ------------------------------------------------------------------


class Zone(Base):
    """A named polygon zone or directed counting line of a stream, in normalised coordinates. ``version`` and
    ``points`` are the current version's (every edit adds a :class:`ZoneVersion` and bumps ``version``);
    removing sets ``deleted_at`` so the statistics computed with it keep their name."""

    __tablename__ = "zones"
    __table_args__ = (
        CheckConstraint("kind IN ('zone', 'line')", name="kind"),
        Index("uq_zones_live_name", "stream_id", "kind", "name", unique=True,
              postgresql_where="deleted_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    points: Mapped[list] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())
    deleted_at: Mapped[datetime | None] = mapped_column(TZ)


class ZoneVersion(Base):
    """Every version a zone or line has had: what a statistic's ``zone_version`` / ``line_version`` means."""

    __tablename__ = "zone_versions"

    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    points: Mapped[list] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class ZoneOccupancy(Base):
    """Per window, model, zone version and class: detections whose anchor was inside, mean and max per frame
    (zeros included), distinct tracks inside and their summed time inside."""

    __tablename__ = "zone_occupancy"

    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(TZ, primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True)
    zone_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_class: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_end: Mapped[datetime] = mapped_column(TZ)
    frames: Mapped[int] = mapped_column(Integer)
    detections: Mapped[int] = mapped_column(Integer)
    mean_per_frame: Mapped[float] = mapped_column(Float)
    max_per_frame: Mapped[int] = mapped_column(Integer)
    objects: Mapped[int] = mapped_column(Integer)
    dwell_seconds: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


class LineCrossing(Base):
    """Per window, model, line version and class: tracks that crossed in and out (each at most once per
    direction)."""

    __tablename__ = "line_crossings"

    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(TZ, primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="CASCADE"), primary_key=True)
    line_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_class: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_end: Mapped[datetime] = mapped_column(TZ)
    crossings_in: Mapped[int] = mapped_column(Integer)
    crossings_out: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


class AggregatorZoneState(Base):
    """The aggregator's zone state of a stream (track sides, counted crossings, open zone windows), rewritten in
    the transaction of each batch that changed it, like ``aggregator_open``."""

    __tablename__ = "aggregator_zone_state"

    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[dict] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now(), onupdate=func.now())


class LiveEvent(Base):
    """A change the UI shows live (a stream's status, a window written, an anomaly opened or closed), appended by
    database triggers (migration 0008_live) in the writer's transaction and kept for a short while, so a client
    that reconnects with ``Last-Event-ID`` misses nothing. No foreign key: a removed stream's events just age out."""

    __tablename__ = "live_events"
    __table_args__ = (Index("ix_live_events_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    stream_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())


class ReaderLease(Base):
    """Which reader run publishes a stream's frames now (at most one), and what it hands to the next run.

    A run holds the lease while ``expires_at`` lies ahead and renews it every few seconds. The next scheduled run
    registers as ``successor``, opens its capture and says ``successor_ready``; the holder then stops and releases
    the lease with its frames' ``session_id`` and ``next_seq``, which the successor continues: one session (and one
    tracking session in the detector) across consecutive runs. Written by :mod:`stream_reader.lease`."""

    __tablename__ = "reader_leases"

    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(TZ)
    session_id: Mapped[str | None] = mapped_column(String(36))
    next_seq: Mapped[int | None] = mapped_column(BigInteger)
    last_media_s: Mapped[float | None] = mapped_column(Float)  # the source time of the last frame published
    last_captured_at: Mapped[datetime | None] = mapped_column(TZ)  # and its capture time
    released_at: Mapped[datetime | None] = mapped_column(TZ)
    successor: Mapped[str | None] = mapped_column(String(64))
    successor_seen_at: Mapped[datetime | None] = mapped_column(TZ)
    successor_ready: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")


class DetectorTracker(Base):
    """The detector's tracker of a stream's current reader session, saved after each batch, so a restarted
    detector (or the one the stream moves to) continues its track ids. Written by :mod:`detector.track_state`."""

    __tablename__ = "detector_trackers"

    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36))
    last_seq: Mapped[int] = mapped_column(BigInteger)  # the last frame the state includes
    state: Mapped[dict] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(TZ, server_default=func.now())
