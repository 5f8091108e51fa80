"""URL parsing and canonical ids (pure logic, no servers)."""

from __future__ import annotations

import pytest

from core.stream_urls import InvalidStreamURL, parse_stream_url

VALID = [
    ("dQw4w9WgXcQ", "youtube:dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("  dQw4w9WgXcQ  ", "youtube:dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s", "youtube:dQw4w9WgXcQ", None),
    ("https://m.youtube.com/watch?feature=share&v=dQw4w9WgXcQ", "youtube:dQw4w9WgXcQ", None),
    ("http://youtube.com/watch?v=dQw4w9WgXcQ", "youtube:dQw4w9WgXcQ", None),
    ("https://youtu.be/dQw4w9WgXcQ?si=abc", "youtube:dQw4w9WgXcQ", None),
    ("https://www.youtube.com/live/dQw4w9WgXcQ?feature=shared", "youtube:dQw4w9WgXcQ", None),
    ("https://www.youtube.com/embed/dQw4w9WgXcQ", "youtube:dQw4w9WgXcQ", None),
    ("https://www.youtube.com/@EarthCam/live", "youtube:@EarthCam/live", "https://www.youtube.com/@EarthCam/live"),
    ("@EarthCam/live", "youtube:@EarthCam/live", "https://www.youtube.com/@EarthCam/live"),
    ("http://127.0.0.1:8080/live.m3u8", "hls:http://127.0.0.1:8080/live.m3u8", "http://127.0.0.1:8080/live.m3u8"),
    ("HTTPS://Example.COM/path/Stream.M3U8#frag", "hls:https://example.com/path/Stream.M3U8", None),
    ("https://example.com/video.mp4", "http:https://example.com/video.mp4", None),
    ("rtsp://cam.example.org:8554/stream1", "rtsp:rtsp://cam.example.org:8554/stream1", None),
    ("file:///var/videos/street.mp4", "file:/var/videos/street.mp4", "file:///var/videos/street.mp4"),
]


@pytest.mark.parametrize(("raw", "canonical", "url"), VALID)
def test_accepted_inputs_get_a_canonical_id(raw: str, canonical: str, url: str | None) -> None:
    ref = parse_stream_url(raw)
    assert ref.canonical_id == canonical
    if url is not None:
        assert ref.url == url


def test_youtube_variants_of_one_video_share_one_canonical_id() -> None:
    variants = ["dQw4w9WgXcQ", "https://youtu.be/dQw4w9WgXcQ", "https://www.youtube.com/live/dQw4w9WgXcQ",
                "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://www.youtube.com/embed/dQw4w9WgXcQ"]
    assert {parse_stream_url(v).canonical_id for v in variants} == {"youtube:dQw4w9WgXcQ"}


# (input, words the refusal must contain): malformed and hostile inputs, each refused with its reason.
REFUSED = [
    ("", "empty"),
    ("    ", "empty"),
    ("javascript:alert(1)", "URL"),
    ("javascript://alert(1)", "scheme"),
    ("data:text/html;base64,PHNjcmlwdD4=", "URL"),
    ("ftp://example.com/stream.m3u8", "scheme"),
    ("gopher://example.com/", "scheme"),
    ("dQw4w9WgXcQx", "12 characters"),
    ("dQw4w9WgXc", "10 characters"),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ'; DROP TABLE streams;--", "character"),
    ("https://www.youtube.com/watch?v=abc", "not a YouTube video id"),
    ("https://www.youtube.com/watch", "without a video id"),
    ("https://www.youtube.com/feed/trending", "unrecognised YouTube URL"),
    ("https://example.com/" + "a" * 10_000, "longer than"),
    ("https://exa mple.com/live.m3u8", "character"),
    ("https://example.com/<script>.m3u8", "character"),
    ("https://user:secret@example.com/live.m3u8", "credentials"),
    ("http:///live.m3u8", "no host"),
    ("https://example.com:99999/live.m3u8", "malformed"),
    ("file://remote-host/etc/passwd", "this machine"),
    ("file:///var/../etc/passwd", "without '..'"),
    ("https://example.com/\x00live.m3u8", "control characters"),
    ("not a url at all", "character"),
    ("example.com/live.m3u8", "scheme"),
]


@pytest.mark.parametrize(("raw", "reason"), REFUSED)
def test_malformed_or_hostile_inputs_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidStreamURL) as refused:
        parse_stream_url(raw)
    assert reason.lower() in refused.value.reason.lower()
