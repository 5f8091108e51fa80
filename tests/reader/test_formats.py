"""Format selection on a recorded (trimmed) yt-dlp info dict of a YouTube live stream: no network."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from core.db.models import SourceKind
from core.probe import StreamUnreachable
from core.source_policy import SourcePolicy
from stream_reader.formats import NoUsableFormat, is_live, live_status, select_format
from stream_reader.resolve import resolve

LOCAL = SourcePolicy(allow_local=True)  # these URLs are on 127.0.0.1 on purpose

LIVE_INFO = json.loads((Path(__file__).parent / "data" / "youtube_live_info.json").read_text())


@pytest.fixture
def info() -> dict:
    return copy.deepcopy(LIVE_INFO)


@pytest.mark.parametrize(
    ("max_height", "format_id", "height"),
    [
        (720, "95", 720),  # 720p30 HLS: not 720p60 (twice the decoding), not 1080p, not DASH
        (1080, "96", 1080),
        (719, "94", 480),
        (480, "94", 480),
        (144, "91", 144),
        (100, "91", 144),  # everything is taller: the smallest
    ],
)
def test_live_youtube_picks_the_best_hls_format_at_or_under_the_height(info, max_height, format_id, height) -> None:
    chosen = select_format(info, max_height)
    assert (chosen.format_id, chosen.height, chosen.protocol) == (format_id, height, "m3u8_native")
    assert chosen.is_hls and chosen.url.endswith("/index.m3u8") and f"/itag/{format_id}/" in chosen.url
    assert chosen.fps == 30 and chosen.tbr_kbps and chosen.vcodec.startswith("avc1")
    assert "User-Agent" in chosen.http_headers


def test_live_without_hls_falls_back_to_an_openable_format_never_dash_fragments(info) -> None:
    info["formats"] = [f for f in info["formats"] if f["protocol"] != "m3u8_native"]
    with pytest.raises(NoUsableFormat):
        select_format(info, 720)  # only DASH fragment lists, audio and storyboards are left


def test_a_finished_broadcast_uses_progressive_formats_and_prefers_h264(info) -> None:
    info.update(is_live=False, was_live=True, live_status="was_live")
    vod = []
    for f in info["formats"]:
        if f["protocol"] == "http_dash_segments_generator" and f.get("height"):
            vod.append({**f, "protocol": "https"})
    vp9 = {**vod[4], "format_id": "247", "vcodec": "vp9", "tbr": 9999.0}  # a 720p VP9 format with more bits
    info["formats"] = [*vod, vp9]
    chosen = select_format(info, 720)
    assert (chosen.format_id, chosen.protocol) == ("136", "https")
    assert not chosen.is_hls
    assert not is_live(info) and live_status(info) == "was_live"


def test_live_status_helpers(info) -> None:
    assert is_live(info) and live_status(info) == "is_live"
    assert not is_live({"is_live": None}) and live_status({"is_live": None}) == "unknown"
    assert is_live({"is_live": True}) and not is_live({"live_status": "post_live", "is_live": True})
    assert live_status({"live_status": "is_upcoming"}) == "is_upcoming"


def test_generic_single_format_result_and_unusable_results() -> None:
    generic = {"is_live": True, "url": "http://127.0.0.1:8/live.m3u8", "protocol": "m3u8_native", "format_id": "0"}
    chosen = select_format(generic, 720)
    assert chosen.url == generic["url"] and chosen.is_hls and chosen.height is None
    with pytest.raises(NoUsableFormat):
        select_format({"formats": [{"format_id": "a", "url": "https://x/a.m4a", "vcodec": "none"}]}, 720)
    with pytest.raises(NoUsableFormat):
        select_format({"formats": []}, 720)


def test_resolve_re_asks_yt_dlp_every_time_and_maps_its_answer(info) -> None:
    calls = []

    def fake_extract(url: str, timeout_s: float) -> dict:
        calls.append((url, timeout_s))
        return info

    url = "https://www.youtube.com/watch?v=jfKfPfyJRdk"
    for _ in range(2):
        source = resolve(url, SourceKind.YOUTUBE, max_height=720, timeout_s=7, extract=fake_extract, policy=LOCAL)
    assert calls == [(url, 7), (url, 7)]
    assert (source.is_live, source.live_status, source.via, source.title) == (True, "is_live", "yt-dlp", info["title"])
    assert source.is_hls and source.format.format_id == "95" and source.headers["Accept-Language"]


def test_resolve_opens_unrecognised_http_urls_directly_but_never_hides_network_errors() -> None:
    def unsupported(url: str, timeout_s: float) -> dict:
        raise StreamUnreachable(f"Unsupported URL: {url}")

    def refused(url: str, timeout_s: float) -> dict:
        raise StreamUnreachable("Unable to download webpage: Connection refused")

    direct = resolve("http://127.0.0.1:9/cam.ts", SourceKind.HTTP, max_height=720, timeout_s=1, extract=unsupported,
                     policy=LOCAL)
    assert (direct.url, direct.via, direct.is_live) == ("http://127.0.0.1:9/cam.ts", "direct", None)
    with pytest.raises(StreamUnreachable, match="refused"):
        resolve("http://127.0.0.1:9/live.m3u8", SourceKind.HLS, max_height=720, timeout_s=1, extract=refused,
                policy=LOCAL)
    with pytest.raises(StreamUnreachable):
        resolve("https://www.youtube.com/watch?v=jfKfPfyJRdk", SourceKind.YOUTUBE, max_height=720, timeout_s=1,
                extract=unsupported, policy=LOCAL)
    rtsp = resolve("rtsp://127.0.0.1:8554/cam", SourceKind.RTSP, max_height=720, timeout_s=1, extract=refused,
                   policy=LOCAL)
    assert (rtsp.via, rtsp.is_live) == ("direct", True)
    local = resolve("file:///tmp/a%20b.mp4", SourceKind.FILE, max_height=720, timeout_s=1, extract=refused,
                    policy=LOCAL)
    assert (local.url, local.is_live) == ("/tmp/a b.mp4", False)
