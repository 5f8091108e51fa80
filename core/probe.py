"""Check that a stream URL leads to a video, and learn its title, channel and whether it is live.

YouTube and HLS/HTTP URLs go through yt-dlp (with a deadline: yt-dlp can hang on a dead host); RTSP gets a
TCP connect to its host; file URLs must exist. The reader resolves again on every connection, since YouTube
manifest URLs expire: this is the registration-time check only.
"""

from __future__ import annotations

import concurrent.futures
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.db.models import SourceKind
from core.stream_urls import StreamRef


class StreamUnreachable(RuntimeError):
    """The URL is well formed but no video could be found there; ``reason`` says what happened."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StreamInfo:
    title: str | None
    channel: str | None
    is_live: bool | None


def ytdlp_options(timeout_s: float) -> dict[str, Any]:
    """Options for metadata extraction only: no download, no playlists, quiet, bounded socket waits."""
    return {
        "quiet": True,
        "no_warnings": True,
        "skip_download": True,
        "noplaylist": True,
        "socket_timeout": timeout_s,
        "extractor_retries": 0,
        "logger": _SilentLogger(),
    }


def extract_info(url: str, timeout_s: float) -> dict[str, Any]:
    """yt-dlp's info dict for ``url``, or :class:`StreamUnreachable` within about ``timeout_s``."""
    import yt_dlp

    def run() -> dict[str, Any]:
        with yt_dlp.YoutubeDL(ytdlp_options(timeout_s)) as ydl:
            return ydl.extract_info(url, download=False)

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="yt-dlp")
    try:
        info = pool.submit(run).result(timeout=timeout_s)
    except concurrent.futures.TimeoutError:
        raise StreamUnreachable(f"no answer within {timeout_s:.0f} s") from None
    except yt_dlp.utils.DownloadError as error:
        raise StreamUnreachable(_clean_error(str(error))) from None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if not info:
        raise StreamUnreachable("yt-dlp found nothing at this URL")
    if info.get("_type") == "playlist":
        raise StreamUnreachable("the URL is a playlist, not a single stream")
    if not (info.get("formats") or info.get("url")):
        raise StreamUnreachable("no video formats found at this URL")
    return info


def probe(ref: StreamRef, timeout_s: float) -> StreamInfo:
    """Check ``ref`` is reachable and describe it (raises :class:`StreamUnreachable`)."""
    if ref.kind is SourceKind.FILE:
        path = Path(urlsplit(ref.url).path)
        if not path.is_file():
            raise StreamUnreachable(f"no such file: {path}")
        return StreamInfo(title=path.name, channel=None, is_live=False)
    if ref.kind is SourceKind.RTSP:
        parts = urlsplit(ref.url)
        try:
            with socket.create_connection((parts.hostname, parts.port or 554), timeout=timeout_s):
                pass
        except OSError as error:
            raise StreamUnreachable(f"cannot connect to {parts.hostname}:{parts.port or 554}: {error}") from None
        return StreamInfo(title=None, channel=None, is_live=True)
    info = extract_info(ref.url, timeout_s)
    is_live = info.get("is_live")
    if is_live is None and info.get("live_status"):
        is_live = info["live_status"] == "is_live"
    return StreamInfo(
        title=info.get("title"),
        channel=info.get("channel") or info.get("uploader"),
        is_live=is_live,
    )


def _clean_error(message: str) -> str:
    return message.removeprefix("ERROR: ").strip()[:500]


class _SilentLogger:
    def debug(self, msg: str) -> None: ...

    def info(self, msg: str) -> None: ...

    def warning(self, msg: str) -> None: ...

    def error(self, msg: str) -> None: ...
