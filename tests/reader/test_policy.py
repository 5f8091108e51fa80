"""The reader's session policy on its own: no ffmpeg, no connection, no thread."""

from __future__ import annotations

import pytest

from stream_reader import policy
from stream_reader.playlist import PlaylistState
from stream_reader.policy import Outcome, StreamMemory
from stream_reader.resolve import ResolvedSource

HLS = "http://example.test/live.m3u8"


def source(is_live: bool | None = True, live_status: str = "is_live", via: str = "yt-dlp", url: str = HLS):
    return ResolvedSource(url=url, is_live=is_live, live_status=live_status, via=via)


def playlist(ended: bool = False, sequence: int = 7, segments: tuple[str, ...] = ("s7.ts", "s8.ts"),
             target_duration: float | None = 2.0) -> PlaylistState:
    return PlaylistState(is_master=False, ended=ended, target_duration=target_duration, media_sequence=sequence,
                         segments=segments)


def test_a_live_resolution_is_remembered_and_a_later_not_live_one_ends_the_stream() -> None:
    memory = StreamMemory()
    assert policy.on_resolved(source(), memory) is None and memory.was_live
    ended = policy.on_resolved(source(is_live=False, live_status="post_live"), memory)
    assert ended == Outcome("ended", "the stream is no longer live (yt-dlp says post_live)")
    # a direct URL that was never seen live is opened, not ended
    assert policy.on_resolved(source(is_live=None, live_status="direct", via="direct"), StreamMemory()) is None


def test_an_upcoming_stream_is_not_opened_yet() -> None:
    assert policy.on_resolved(source(is_live=False, live_status="is_upcoming"), StreamMemory()).kind == "not_live_yet"


def test_a_playlist_that_has_not_moved_since_the_stall_means_the_source_is_still_down() -> None:
    memory = StreamMemory(seen_live=True)
    stalled = policy.on_stall(source(), playlist(), memory, 12.3)
    assert stalled == Outcome("stalled", "no frame for 12.3 s: the read stalled")
    assert memory.stalled_at == (8, "s8.ts")
    assert policy.on_playlist(playlist(), memory).kind == "stale"
    assert policy.on_playlist(playlist(sequence=8, segments=("s8.ts", "s9.ts")), memory) is None
    assert memory.stalled_at is None  # it moved: the next stall starts afresh


def test_endlist_ends_a_live_stream_and_a_video_alike_but_says_which() -> None:
    assert policy.on_playlist(playlist(ended=True), StreamMemory(target_is_live=True)).kind == "ended"
    assert policy.on_playlist(playlist(ended=True), StreamMemory()) is None  # a VOD playlist is read to its end
    assert policy.on_close(source(), True, playlist(ended=True), StreamMemory(seen_live=True)).reason == (
        policy.BROADCAST_ENDED)
    assert policy.on_close(source(is_live=None), False, playlist(ended=True), StreamMemory()).reason == (
        "end of the video")


@pytest.mark.parametrize(
    ("is_live", "live", "expected"),
    [(True, True, "closed"), (False, True, "ended"), (None, False, "ended")],
)
def test_a_closed_connection_is_reopened_only_while_live(is_live, live, expected) -> None:
    outcome = policy.on_close(source(is_live=is_live, url="rtsp://example.test/cam"), live, None, StreamMemory(),
                              "EOF")
    assert outcome.kind == expected
    if expected == "closed":
        assert outcome.reason == "the source closed the connection: EOF"


def test_stall_timeout_is_a_few_segments_of_an_hls_stream() -> None:
    assert policy.stall_timeout(5.0, 3, playlist(target_duration=4.0)) == 12.0
    assert policy.stall_timeout(5.0, 3, playlist(target_duration=1.0)) == 5.0
    assert policy.stall_timeout(5.0, 3, None) == 5.0
    assert policy.reads_live(source(), playlist()) and not policy.reads_live(source(), playlist(ended=True))


def test_a_person_pausing_or_removing_the_stream_ends_the_session() -> None:
    assert policy.on_status(None).kind == "removed"
    assert policy.on_status("paused").kind == "paused"
    assert policy.on_status("live") is None and policy.on_status("unknown") is None


@pytest.mark.parametrize(
    ("kind", "step"),
    [("ended", "end"), ("stopped", "stop"), ("paused", "leave"), ("removed", "leave"), ("stalled", "reconnect"),
     ("closed", "reconnect"), ("resolve_failed", "reconnect"), ("stale", "reconnect"), ("error", "reconnect")],
)
def test_what_follows_a_session(kind: str, step: str) -> None:
    assert policy.after_session(Outcome(kind)) == step
