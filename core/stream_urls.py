"""Parse what people paste as a stream into a canonical id and a URL a reader can open (pure logic).

Accepted: YouTube watch / youtu.be / live / embed / shorts URLs, bare 11-character video ids, channel live
pages (``youtube.com/@handle/live`` or ``@handle/live``), and http(s), rtsp(s) and file URLs to other streams.
Anything else raises :class:`InvalidStreamURL` with a reason a person can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import parse_qs, urlsplit

from core.db.models import SourceKind

MAX_URL_LENGTH = 2048
YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
YOUTUBE_HANDLE = re.compile(r"@[A-Za-z0-9._-]{3,30}")
YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com", "youtube-nocookie.com",
                 "www.youtube-nocookie.com"}
SHORT_HOSTS = {"youtu.be", "www.youtu.be"}
# Characters that never belong in a stream URL we store: whitespace, quotes, angle brackets, backslash.
FORBIDDEN = re.compile(r"[\s\"'<>\\`{}|^]")
ENCODED_CONTROL = re.compile(r"%(?:[01][0-9a-f]|7f)", re.IGNORECASE)  # %0d%0a header injection and kin
SCHEMES = {"http": SourceKind.HTTP, "https": SourceKind.HTTP, "rtsp": SourceKind.RTSP, "rtsps": SourceKind.RTSP,
           "file": SourceKind.FILE}


class InvalidStreamURL(ValueError):
    """The input is not a stream URL we accept; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StreamRef:
    kind: SourceKind
    canonical_id: str  # unique key in the registry: youtube:<id>, youtube:@handle/live, hls:<url>, ...
    url: str  # what yt-dlp / OpenCV open


def parse_stream_url(raw: str) -> StreamRef:
    """Validate and canonicalise ``raw``; raise :class:`InvalidStreamURL` naming the problem."""
    if not isinstance(raw, str):
        raise InvalidStreamURL("the URL must be text")
    text = raw.strip()
    if not text:
        raise InvalidStreamURL("the URL is empty")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidStreamURL(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InvalidStreamURL("the URL contains control characters")
    if ENCODED_CONTROL.search(text):
        raise InvalidStreamURL("the URL contains an encoded control character (%00-%1F, %7F)")
    if FORBIDDEN.search(text):
        bad = FORBIDDEN.search(text).group(0)  # type: ignore[union-attr]
        raise InvalidStreamURL(f"the URL contains a character not allowed in a stream URL: {bad!r}")

    if YOUTUBE_ID.fullmatch(text):
        return _youtube_video(text)
    if YOUTUBE_HANDLE.fullmatch(text.removesuffix("/live")) and text.endswith("/live"):
        return _youtube_channel(text.removesuffix("/live"))
    if "://" not in text:
        if re.fullmatch(r"[A-Za-z0-9_-]+", text):
            raise InvalidStreamURL(
                f"{len(text)} characters is not a YouTube video id (ids have exactly 11 letters, digits, - or _)"
            )
        raise InvalidStreamURL("not a URL: give a full URL with a scheme (https://, rtsp://, file://) or a video id")

    scheme = text.split("://", 1)[0].lower()
    if scheme not in SCHEMES:
        raise InvalidStreamURL(f"unsupported scheme {scheme!r}: use http, https, rtsp, rtsps or file")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as bad:
        raise InvalidStreamURL(f"malformed URL: {bad}") from None
    if parts.username is not None or parts.password is not None:
        raise InvalidStreamURL("credentials in the URL are not accepted (streams must be public)")

    if scheme == "file":
        return _file(parts.netloc, parts.path)
    host = (parts.hostname or "").lower()
    if not host:
        raise InvalidStreamURL("the URL has no host")
    if not re.fullmatch(r"[a-z0-9.-]+|\[[0-9a-f:.]+\]|[0-9a-f:.]+", host) or ".." in host:
        raise InvalidStreamURL(f"invalid host name {host!r}")
    if scheme in ("http", "https") and (host in YOUTUBE_HOSTS or host in SHORT_HOSTS):
        return _youtube_url(host, parts.path, parts.query)

    normalised = parts._replace(scheme=scheme, netloc=_netloc(host, port), fragment="").geturl()
    kind = SCHEMES[scheme]
    if kind is SourceKind.HTTP and parts.path.lower().endswith(".m3u8"):
        kind = SourceKind.HLS
    return StreamRef(kind=kind, canonical_id=f"{kind.value}:{normalised}", url=normalised)


def _netloc(host: str, port: int | None) -> str:
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    return f"{host}:{port}" if port is not None else host


def _youtube_video(video_id: str) -> StreamRef:
    return StreamRef(SourceKind.YOUTUBE, f"youtube:{video_id}", f"https://www.youtube.com/watch?v={video_id}")


def _youtube_channel(handle: str) -> StreamRef:
    return StreamRef(SourceKind.YOUTUBE, f"youtube:{handle}/live", f"https://www.youtube.com/{handle}/live")


def _youtube_url(host: str, path: str, query: str) -> StreamRef:
    segments = [s for s in path.split("/") if s]
    if host in SHORT_HOSTS:
        candidate = segments[0] if segments else ""
    elif segments[:1] == ["watch"] and len(segments) == 1:
        values = parse_qs(query).get("v", [])
        if not values:
            raise InvalidStreamURL("YouTube watch URL without a video id (?v=...)")
        candidate = values[0]
    elif len(segments) == 2 and segments[0] in ("live", "embed", "shorts", "v"):
        candidate = segments[1]
    elif len(segments) == 2 and segments[1] == "live" and YOUTUBE_HANDLE.fullmatch(segments[0]):
        return _youtube_channel(segments[0])
    else:
        raise InvalidStreamURL(
            "unrecognised YouTube URL: use a watch, youtu.be, /live/, /embed/ or /@handle/live URL"
        )
    if not YOUTUBE_ID.fullmatch(candidate):
        raise InvalidStreamURL(f"{candidate!r} is not a YouTube video id (exactly 11 letters, digits, - or _)")
    return _youtube_video(candidate)


def _file(netloc: str, path: str) -> StreamRef:
    if netloc not in ("", "localhost"):
        raise InvalidStreamURL("file URLs must point at this machine (file:///absolute/path)")
    if not path.startswith("/") or ".." in PurePosixPath(path).parts:
        raise InvalidStreamURL("file URLs need an absolute path without '..'")
    url = f"file://{path}"
    return StreamRef(SourceKind.FILE, f"file:{path}", url)
