"""Turn a registered stream into a URL FFmpeg can open, asking yt-dlp again on every connection.

YouTube manifest URLs expire (hours), so a reader never caches them. HLS/HTTP URLs go through yt-dlp's
generic extractor (which also says whether a playlist is live); when yt-dlp does not recognise the URL at
all, it is opened directly. RTSP and file URLs are always opened directly.

Every resolution re-checks the source policy (core.source_policy) just before connecting: the registered
host is resolved again and so is the URL yt-dlp hands back, so a name that pointed at a public address at
registration and at a private one now (DNS rebinding) is refused here, as :class:`StreamUnreachable`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from core.db.models import SourceKind
from core.probe import StreamUnreachable, extract_info
from core.source_policy import SourcePolicy, SourceRefused
from stream_reader.formats import SelectedFormat, is_live, live_status, select_format

Extractor = Callable[[str, float], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ResolvedSource:
    """What one resolution said: the URL to open and whether the stream is live right now."""

    url: str
    is_live: bool | None  # None: nobody could say (a direct URL)
    live_status: str  # yt-dlp's is_live / was_live / post_live / is_upcoming / not_live, or unknown / direct
    via: str  # "yt-dlp" or "direct"
    format: SelectedFormat | None = None
    title: str | None = None

    @property
    def is_hls(self) -> bool:
        if self.format is not None:
            return self.format.is_hls
        return urlsplit(self.url).path.lower().endswith(".m3u8")

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.format.http_headers) if self.format else {}


def resolve(
    url: str, kind: str, *, max_height: int, timeout_s: float, extract: Extractor = extract_info,
    policy: SourcePolicy | None = None,
) -> ResolvedSource:
    """Resolve one stream; raises :class:`StreamUnreachable` (yt-dlp's reason, or the policy's) or NoUsableFormat.

    ``policy`` defaults to the process settings' (STREAMSCOPE_ALLOW_LOCAL_SOURCES).
    """
    if policy is None:
        from core.settings import get_settings

        policy = SourcePolicy.from_settings(get_settings())
    _allowed(url, policy)
    if kind == SourceKind.FILE:
        return ResolvedSource(unquote(urlsplit(url).path), is_live=False, live_status="not_live", via="direct")
    if kind == SourceKind.RTSP:
        return ResolvedSource(url, is_live=True, live_status="is_live", via="direct")
    try:
        info = extract(url, timeout_s)
    except StreamUnreachable as error:
        if kind != SourceKind.YOUTUBE and "unsupported url" in (error.detail or error.reason).lower():
            return ResolvedSource(url, is_live=None, live_status="direct", via="direct")
        raise
    chosen = select_format(info, max_height)
    _allowed(chosen.url, policy)
    return ResolvedSource(
        chosen.url, is_live=is_live(info), live_status=live_status(info), via="yt-dlp", format=chosen,
        title=info.get("title"),
    )


def _allowed(url: str, policy: SourcePolicy) -> None:
    try:
        policy.check_connect(url)
    except SourceRefused as refused:
        raise StreamUnreachable(f"source refused: {refused.reason}") from None
