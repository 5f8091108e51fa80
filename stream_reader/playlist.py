"""Read an HLS playlist's state: ended (ENDLIST), segment length, and whether it moved (parsing by ``m3u8``, a fetch).

The reader looks at the playlist itself because FFmpeg does not say *why* a read failed: a playlist with
``#EXT-X-ENDLIST`` means the broadcast ended (reopening it would replay old segments: duplicates), and a live
playlist whose last segment has not changed since the last stall means the source is still down (reopening
it would replay that last segment again).
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass

import m3u8


@dataclass(frozen=True, slots=True)
class Variant:
    uri: str
    bandwidth: int | None
    width: int | None
    height: int | None
    fps: float | None


@dataclass(frozen=True, slots=True)
class PlaylistState:
    """What one fetch of a playlist said."""

    is_master: bool
    ended: bool  # #EXT-X-ENDLIST (or a VOD playlist type)
    target_duration: float | None
    media_sequence: int
    segments: tuple[str, ...]
    variants: tuple[Variant, ...] = ()

    @property
    def last_segment(self) -> tuple[int, str] | None:
        """Identity of the newest segment: (its media sequence number, its URI)."""
        if not self.segments:
            return None
        return (self.media_sequence + len(self.segments) - 1, self.segments[-1])


class PlaylistError(ValueError):
    """The text is not an HLS playlist."""


def parse_playlist(text: str, base_url: str = "") -> PlaylistState:
    """Parse a master or media playlist (with the ``m3u8`` library); URIs are made absolute against ``base_url``."""
    if not text.lstrip().startswith("#EXTM3U"):
        raise PlaylistError("not an HLS playlist (no #EXTM3U header)")
    parsed = m3u8.loads(text, uri=base_url or None)

    def uri(item) -> str:
        return item.absolute_uri if base_url else item.uri

    variants = tuple(
        Variant(uri(v), v.stream_info.bandwidth or None, *_resolution(v.stream_info.resolution),
                v.stream_info.frame_rate)
        for v in parsed.playlists
    )
    return PlaylistState(
        is_master=bool(variants),
        ended=bool(parsed.is_endlist) or (parsed.playlist_type or "").lower() == "vod",
        target_duration=float(parsed.target_duration) if parsed.target_duration is not None else None,
        media_sequence=int(parsed.media_sequence or 0),
        segments=tuple(uri(segment) for segment in parsed.segments),
        variants=variants,
    )


def _resolution(resolution: tuple[int, int] | None) -> tuple[int | None, int | None]:
    return resolution if resolution else (None, None)


def fetch_playlist(
    url: str, timeout_s: float, headers: dict[str, str] | None = None, *, follow_master: bool = True
) -> PlaylistState:
    """GET and parse ``url``; a master playlist is followed to its first variant (all variants end together)."""
    state = parse_playlist(_get(url, timeout_s, headers), url)
    if state.is_master and follow_master:
        return fetch_playlist(state.variants[0].uri, timeout_s, headers, follow_master=False)
    return state


def _get(url: str, timeout_s: float, headers: dict[str, str] | None) -> str:
    request = urllib.request.Request(url, headers=dict(headers or {}))
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return response.read(2_000_000).decode("utf-8", errors="replace")
