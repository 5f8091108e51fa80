"""The reader's reconnect and session policy, pure: why a session ends and what the reader does next.

A connection ("session") ends when a read stalls, the source closes, or the reader stops. What happens next
depends on why it ended:

- the broadcast ended (ENDLIST in the playlist, or yt-dlp no longer says live): status ENDED, never reopened
  (reopening an ended playlist replays its last segments: duplicate frames);
- a person paused or removed the stream, or the reader was stopped: the reader leaves it;
- anything else: status RECONNECTING with the error as reason, then a new session after an exponential
  backoff with jitter; a session that delivered no frame counts as failed, and ``max_failed_sessions`` of
  them in a row turn the stream FAILED.

The functions here take what resolving, the playlist and the capture said, and decide; the I/O is in
:mod:`stream_reader.connection` and the thread in :mod:`stream_reader.worker`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.db.models import StreamStatus
from stream_reader.playlist import PlaylistState
from stream_reader.resolve import ResolvedSource

TERMINAL = {"ended", "stopped", "paused", "removed"}
BROADCAST_ENDED = "the broadcast ended (#EXT-X-ENDLIST)"


@dataclass(frozen=True, slots=True)
class Outcome:
    """Why a session ended: ``kind`` goes to ``reader_sessions.end_reason``, ``reason`` to the status."""

    kind: str
    reason: str | None = None


@dataclass(slots=True)
class StreamMemory:
    """What the reader remembers about a stream from one session to the next."""

    target_is_live: bool | None = None  # what the registry said when the reader started
    seen_live: bool = False  # a resolution said "live" during this reader's life
    stalled_at: tuple[int, str] | None = None  # newest playlist segment when the last stall happened

    @property
    def was_live(self) -> bool:
        return self.seen_live or self.target_is_live is True


def on_resolved(source: ResolvedSource, memory: StreamMemory) -> Outcome | None:
    """After resolving: a session is not worth opening when the stream has not started or is no longer live."""
    if source.is_live:
        memory.seen_live = True
    elif source.live_status == "is_upcoming":
        return Outcome("not_live_yet", "the live stream has not started yet")
    elif source.via == "yt-dlp" and memory.was_live:
        return Outcome("ended", f"the stream is no longer live (yt-dlp says {source.live_status})")
    return None


def on_playlist(playlist: PlaylistState, memory: StreamMemory) -> Outcome | None:
    """Before opening an HLS stream: ended, or still down since the last stall (the playlist has not moved)?"""
    if playlist.ended and memory.was_live:
        return Outcome("ended", BROADCAST_ENDED)
    if memory.stalled_at is not None and playlist.last_segment == memory.stalled_at:
        return Outcome("stale", "the playlist has not moved since the last stall: the source is down")
    memory.stalled_at = None
    return None


def stall_timeout(read_timeout_s: float, stall_segments: float, playlist: PlaylistState | None) -> float:
    """How long a read may block before the session counts as stalled: a few segments of an HLS stream."""
    if playlist is not None and playlist.target_duration:
        return max(read_timeout_s, stall_segments * playlist.target_duration)
    return read_timeout_s


def reads_live(source: ResolvedSource, playlist: PlaylistState | None) -> bool:
    """Whether the capture follows a live edge (else a file or VOD, paced to real time and ended at its end)."""
    return source.is_live is not False and not (playlist is not None and playlist.ended)


def on_stall(source: ResolvedSource, playlist: PlaylistState | None, memory: StreamMemory,
             blocked_s: float) -> Outcome:
    """A read blocked for the stall timeout (``playlist``: fetched again for an HLS stream)."""
    if source.is_hls:
        if playlist is not None and playlist.ended and memory.was_live:
            return Outcome("ended", BROADCAST_ENDED)
        memory.stalled_at = playlist.last_segment if playlist else None
    return Outcome("stalled", f"no frame for {blocked_s:.1f} s: the read stalled")


def on_close(source: ResolvedSource, live: bool, playlist: PlaylistState | None, memory: StreamMemory,
             error: str | None = None) -> Outcome:
    """The source closed the connection (not a stall): ended, or worth reconnecting?"""
    if source.is_hls and playlist is not None and playlist.ended:
        return Outcome("ended", BROADCAST_ENDED if memory.was_live else "end of the video")
    if source.is_live is False or not live:
        return Outcome("ended", "end of the video")
    return Outcome("closed", "the source closed the connection" + (f": {error}" if error else ""))


def on_status(status: str | None) -> Outcome | None:
    """The stream's status read back during a session: a person paused or removed it (``None``: removed)."""
    if status is None:
        return Outcome("removed", "the stream was removed")
    if status == StreamStatus.PAUSED:
        return Outcome("paused", "paused by a person")
    return None


def after_session(outcome: Outcome) -> Literal["end", "stop", "leave", "reconnect"]:
    """What the reader does once a session is over: mark it ENDED, stop, leave it (paused/removed), or
    reconnect after a backoff (counting a failure when the session delivered nothing)."""
    if outcome.kind == "ended":
        return "end"
    if outcome.kind == "stopped":
        return "stop"
    if outcome.kind in TERMINAL:
        return "leave"
    return "reconnect"
