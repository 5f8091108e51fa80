"""Check that a stream URL leads to a video, and learn its title, channel and whether it is live.

YouTube and HLS/HTTP URLs go through yt-dlp (with a deadline: yt-dlp can hang on a dead host); RTSP gets a
TCP connect to its host; file URLs must exist. The reader resolves again on every connection, since YouTube
manifest URLs expire: this is the registration-time check only.
"""

from __future__ import annotations

import concurrent.futures
import logging
import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.db.models import SourceKind
from core.source_policy import SourcePolicy, SourceRefused
from core.stream_urls import StreamRef

log = logging.getLogger(__name__)


class StreamUnreachable(RuntimeError):
    """The URL is well formed but no video could be found there.

    ``reason`` is short and says what to do (people read it); ``detail`` is the raw cause (yt-dlp's text),
    which goes to the log only.
    """

    def __init__(self, reason: str, detail: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


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
        raw = _clean_error(str(error))
        log.warning("yt-dlp could not read %s: %s", url, raw)
        raise StreamUnreachable(human_reason(raw), raw) from None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if not info:
        raise StreamUnreachable("yt-dlp found nothing at this URL")
    if info.get("_type") == "playlist":
        raise StreamUnreachable("the URL is a playlist, not a single stream")
    if not (info.get("formats") or info.get("url")):
        raise StreamUnreachable("no video formats found at this URL")
    return info


def probe(ref: StreamRef, timeout_s: float, policy: SourcePolicy | None = None) -> StreamInfo:
    """Check ``ref`` is reachable and describe it (raises :class:`StreamUnreachable`).

    With a ``policy``, HTTP URLs are first fetched here with every redirect checked against it before it
    is followed (yt-dlp follows redirects on its own), and yt-dlp is then given the final URL.
    """
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
            log.warning("probe: cannot connect to %s: %s", ref.url, error)
            raise StreamUnreachable(human_reason(str(error)), str(error)) from None
        return StreamInfo(title=None, channel=None, is_live=True)
    url = ref.url
    if policy is not None and ref.kind in (SourceKind.HTTP, SourceKind.HLS):
        url = follow_redirects(url, policy, timeout_s)
    info = extract_info(url, timeout_s)
    is_live = info.get("is_live")
    if is_live is None and info.get("live_status"):
        is_live = info["live_status"] == "is_live"
    return StreamInfo(
        title=info.get("title"),
        channel=info.get("channel") or info.get("uploader"),
        is_live=is_live,
    )


MAX_REDIRECTS = 5
# (pattern in the raw message, what a person reads), first match wins.
HUMAN_REASONS = [
    (re.compile(r"unsupported url", re.I), "no video found at this URL: give a stream page, an HLS playlist or a "
     "video URL"),
    (re.compile(r"name or service not known|name resolution|getaddrinfo|nodename nor servname|no address",
                re.I), "the host name does not resolve: check the URL"),
    (re.compile(r"connection refused|errno 111", re.I), "the server refused the connection: is the stream running?"),
    (re.compile(r"timed out|timeout", re.I), "the server did not answer in time: try again later"),
    (re.compile(r"network is unreachable|no route to host", re.I), "the server cannot be reached from here"),
    (re.compile(r"http error 404|not found", re.I), "nothing at this URL (404): check the URL"),
    (re.compile(r"http error 40[13]|forbidden|unauthori", re.I), "the server refuses access to this stream: "
     "streams must be public"),
    (re.compile(r"sign in|log in|login|age-restricted|confirm your age", re.I),
     "the video needs a sign-in: pick a public stream"),
    (re.compile(r"private video|video unavailable|removed|not available", re.I), "the video is unavailable "
     "(private, removed or blocked): pick another stream"),
    (re.compile(r"will begin|premieres|upcoming", re.I), "the live event has not started yet: register it later"),
    (re.compile(r"http error 5\d\d", re.I), "the server had an error: try again later"),
]


def human_reason(raw: str) -> str:
    """A short reason a person can act on, for a raw yt-dlp / socket message (which goes to the log)."""
    for pattern, reason in HUMAN_REASONS:
        if pattern.search(raw):
            return reason
    return "no video could be read at this URL (details are in the server log)"


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to a URL the policy allows (resolved and checked before connecting)."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, policy: SourcePolicy):
        self.policy = policy

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        try:
            self.policy.check_connect(newurl)
        except SourceRefused as refused:
            raise StreamUnreachable(f"the URL redirects to a refused address: {refused.reason}") from None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def follow_redirects(url: str, policy: SourcePolicy, timeout_s: float) -> str:
    """The URL ``url`` ends at after its redirects, each checked against ``policy`` before it is followed."""
    opener = urllib.request.build_opener(_CheckedRedirects(policy))
    request = urllib.request.Request(url, headers={"User-Agent": "streamscope-probe"})
    try:
        with opener.open(request, timeout=timeout_s) as answer:
            return answer.geturl()
    except StreamUnreachable:
        raise
    except urllib.error.HTTPError as error:
        raw = f"HTTP Error {error.code}: {error.reason}"
        log.warning("probe: %s answered %s", url, raw)
        raise StreamUnreachable(human_reason(raw), raw) from None
    except (OSError, ValueError) as error:
        log.warning("probe: cannot fetch %s: %s", url, error)
        raise StreamUnreachable(human_reason(str(error)), str(error)) from None


def _clean_error(message: str) -> str:
    return message.removeprefix("ERROR: ").strip()[:500]


class _SilentLogger:
    def debug(self, msg: str) -> None: ...

    def info(self, msg: str) -> None: ...

    def warning(self, msg: str) -> None: ...

    def error(self, msg: str) -> None: ...
