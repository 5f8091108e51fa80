"""HLS playlist parsing (pure) and fetching from the live test source."""

from __future__ import annotations

import pytest

from stream_reader.playlist import PlaylistError, fetch_playlist, parse_playlist

LIVE = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:41
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:1.000000,
seg00041.ts
#EXTINF:1.000000,
seg00042.ts
"""

MASTER = """#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=2500000,RESOLUTION=1280x720,FRAME-RATE=30.000,CODECS="avc1.64001f,mp4a.40.2"
720/index.m3u8?token=a
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2"
https://cdn.example/360/index.m3u8
"""


def test_live_media_playlist() -> None:
    state = parse_playlist(LIVE, "http://h/x/live.m3u8")
    assert not state.is_master and not state.ended
    assert state.target_duration == 2.0 and state.media_sequence == 41
    assert state.segments == ("http://h/x/seg00041.ts", "http://h/x/seg00042.ts")
    assert state.last_segment == (42, "http://h/x/seg00042.ts")


def test_ended_and_vod_playlists() -> None:
    assert parse_playlist(LIVE + "#EXT-X-ENDLIST\n").ended
    assert parse_playlist(LIVE.replace("#EXT-X-VERSION:3", "#EXT-X-PLAYLIST-TYPE:VOD")).ended
    assert parse_playlist("#EXTM3U\n").last_segment is None


def test_master_playlist_variants_with_quoted_commas() -> None:
    state = parse_playlist(MASTER, "https://h/live/master.m3u8")
    assert state.is_master
    first, second = state.variants
    assert (first.uri, first.bandwidth, first.width, first.height, first.fps) == (
        "https://h/live/720/index.m3u8?token=a", 2500000, 1280, 720, 30.0)
    assert (second.uri, second.height, second.fps) == ("https://cdn.example/360/index.m3u8", 360, None)


def test_not_a_playlist() -> None:
    with pytest.raises(PlaylistError):
        parse_playlist("<html>nope</html>")


def test_fetch_follows_the_live_source_and_sees_its_end(tmp_path) -> None:
    from stream_reader.testsrc import LiveHLSSource

    with LiveHLSSource("colors", width=320, height=180, fps=10, directory=tmp_path) as source:
        (tmp_path / "master.m3u8").write_text(
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=320x180\nlive.m3u8\n")
        state = fetch_playlist(source.url.replace("live.m3u8", "master.m3u8"), 5)
        assert not state.is_master and not state.ended and state.target_duration and len(state.segments) >= 2
        source.end()
        assert fetch_playlist(source.url, 5).ended
