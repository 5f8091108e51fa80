"""Choose what to open from a yt-dlp info dict (pure logic: no network, no yt-dlp import).

Rules, in order of importance:

- Only formats FFmpeg can open by URL: HLS (``m3u8``/``m3u8_native``), plain http(s) and rtsp/rtmp.
  DASH fragment lists, storyboards and audio-only formats are never chosen.
- A live stream prefers its HLS manifest (YouTube's live DASH needs a fragment downloader).
- The tallest format at or under ``max_height``; when every format is taller, the smallest one.
- At the same height: frame rates up to 30 first (we sample at most 30 frames/s, and decoding 60 frames/s
  costs twice the CPU), then H.264 (cheapest to decode), then the higher bitrate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OPENABLE_PROTOCOLS = {"m3u8", "m3u8_native", "https", "http", "rtsp", "rtsps", "rtmp", "rtmps", "file"}
HLS_PROTOCOLS = {"m3u8", "m3u8_native"}
NOT_VIDEO_EXTENSIONS = {"mhtml", "vtt", "srt", "json3", "m4a", "mp3", "opus", "weba"}
CODEC_PREFERENCE = ("avc1", "h264", "hev1", "hvc1", "vp09", "vp9", "av01")


class NoUsableFormat(ValueError):
    """The info dict lists nothing FFmpeg can open."""


@dataclass(frozen=True, slots=True)
class SelectedFormat:
    """The format a reader opens, with what yt-dlp knew about it (``None`` where it did not say)."""

    url: str
    protocol: str
    format_id: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    tbr_kbps: float | None = None
    vcodec: str | None = None
    http_headers: dict[str, str] = field(default_factory=dict)

    @property
    def is_hls(self) -> bool:
        return self.protocol in HLS_PROTOCOLS or _path_of(self.url).endswith(".m3u8")


def is_live(info: Mapping[str, Any]) -> bool:
    """Whether yt-dlp says the stream is live now (``live_status`` when present, else ``is_live``)."""
    status = info.get("live_status")
    if status:
        return status == "is_live"
    return info.get("is_live") is True


def live_status(info: Mapping[str, Any]) -> str:
    """yt-dlp's ``live_status`` (is_live, was_live, post_live, is_upcoming, not_live) or a best guess."""
    status = info.get("live_status")
    if status:
        return str(status)
    return "is_live" if info.get("is_live") is True else "unknown"


def select_format(info: Mapping[str, Any], max_height: int) -> SelectedFormat:
    """The best openable format of ``info`` at or under ``max_height`` (see the module's rules)."""
    formats = list(info.get("formats") or [])
    if not formats and info.get("url"):
        formats = [info]  # a single-format result: yt-dlp put the format's fields at the top level
    candidates = [f for f in formats if _openable(f)]
    if not candidates:
        raise NoUsableFormat("no format FFmpeg can open (only DASH fragments, storyboards or audio)")
    if is_live(info):
        hls = [f for f in candidates if _protocol(f) in HLS_PROTOCOLS]
        candidates = hls or candidates
    fitting = [f for f in candidates if (_height(f) or 0) <= max_height]
    if fitting:
        best = max(fitting, key=_rank)
    else:  # everything is taller than wanted: the best of the smallest
        smallest = min(_height(f) or 0 for f in candidates)
        best = max((f for f in candidates if (_height(f) or 0) == smallest), key=_rank)
    return _selected(best, info)


def _rank(fmt: Mapping[str, Any]) -> tuple[int, int, int, float]:
    fps = _number(fmt.get("fps")) or 0.0
    return (_height(fmt) or 0, 1 if fps <= 30 else 0, _codec_score(fmt.get("vcodec")), _number(fmt.get("tbr")) or 0.0)


def _codec_score(vcodec: Any) -> int:
    if not isinstance(vcodec, str) or not vcodec or vcodec == "none":
        return 0
    for index, prefix in enumerate(CODEC_PREFERENCE):
        if vcodec.lower().startswith(prefix):
            return len(CODEC_PREFERENCE) - index
    return 0


def _openable(fmt: Mapping[str, Any]) -> bool:
    if not fmt.get("url") or fmt.get("has_drm"):
        return False
    if fmt.get("vcodec") == "none":  # audio only
        return False
    if str(fmt.get("ext") or "") in NOT_VIDEO_EXTENSIONS or "storyboard" in str(fmt.get("format_note") or ""):
        return False
    return _protocol(fmt) in OPENABLE_PROTOCOLS


def _protocol(fmt: Mapping[str, Any]) -> str:
    protocol = fmt.get("protocol")
    if protocol:
        return str(protocol)
    scheme = str(fmt.get("url", "")).split("://", 1)[0].lower()
    return "m3u8_native" if _path_of(str(fmt.get("url", ""))).endswith(".m3u8") else scheme


def _height(fmt: Mapping[str, Any]) -> int | None:
    height = fmt.get("height")
    if isinstance(height, int | float) and height > 0:
        return int(height)
    match = re.fullmatch(r"(\d+)x(\d+)", str(fmt.get("resolution") or ""))
    return int(match.group(2)) if match else None


def _width(fmt: Mapping[str, Any]) -> int | None:
    width = fmt.get("width")
    if isinstance(width, int | float) and width > 0:
        return int(width)
    match = re.fullmatch(r"(\d+)x(\d+)", str(fmt.get("resolution") or ""))
    return int(match.group(1)) if match else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _path_of(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0].lower()


def _selected(fmt: Mapping[str, Any], info: Mapping[str, Any]) -> SelectedFormat:
    headers = fmt.get("http_headers") or info.get("http_headers") or {}
    vcodec = fmt.get("vcodec")
    return SelectedFormat(
        url=str(fmt["url"]),
        protocol=_protocol(fmt),
        format_id=str(fmt["format_id"]) if fmt.get("format_id") is not None else None,
        width=_width(fmt),
        height=_height(fmt),
        fps=_number(fmt.get("fps")),
        tbr_kbps=_number(fmt.get("tbr")),
        vcodec=vcodec if isinstance(vcodec, str) and vcodec != "none" else None,
        http_headers={str(k): str(v) for k, v in dict(headers).items()},
    )
