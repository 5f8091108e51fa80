"""Read an HLS playlist's state: ended (ENDLIST), segment length, and whether it moved (pure parsing + a fetch).

The reader looks at the playlist itself because FFmpeg does not say *why* a read failed: a playlist with
``#EXT-X-ENDLIST`` means the broadcast ended (reopening it would replay old segments: duplicates), and a live
playlist whose last segment has not changed since the last stall means the source is still down (reopening
it would replay that last segment again).
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from urllib.parse import urljoin


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
    """Parse a master or media playlist; URIs are made absolute against ``base_url``."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise PlaylistError("not an HLS playlist (no #EXTM3U header)")
    ended = False
    target: float | None = None
    sequence = 0
    segments: list[str] = []
    variants: list[Variant] = []
    pending_variant: dict[str, str] | None = None
    for line in lines[1:]:
        if line.startswith("#EXT-X-ENDLIST") or line == "#EXT-X-PLAYLIST-TYPE:VOD":
            ended = True
        elif line.startswith("#EXT-X-TARGETDURATION:"):
            target = _float(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            sequence = int(_float(line.split(":", 1)[1]) or 0)
        elif line.startswith("#EXT-X-STREAM-INF:"):
            pending_variant = _attributes(line.split(":", 1)[1])
        elif not line.startswith("#"):
            uri = urljoin(base_url, line) if base_url else line
            if pending_variant is not None:
                variants.append(_variant(uri, pending_variant))
                pending_variant = None
            else:
                segments.append(uri)
    return PlaylistState(
        is_master=bool(variants),
        ended=ended,
        target_duration=target,
        media_sequence=sequence,
        segments=tuple(segments),
        variants=tuple(variants),
    )


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


def _attributes(text: str) -> dict[str, str]:
    """``KEY=value,KEY="quoted, value"`` into a dict."""
    result: dict[str, str] = {}
    key, value, in_quotes, reading_key = "", "", False, True
    for char in text + ",":
        if reading_key:
            if char == "=":
                reading_key = False
            elif char != ",":
                key += char
        elif char == '"':
            in_quotes = not in_quotes
        elif char == "," and not in_quotes:
            result[key.strip().upper()] = value
            key, value, reading_key = "", "", True
        else:
            value += char
    return result


def _variant(uri: str, attributes: dict[str, str]) -> Variant:
    width = height = None
    if "x" in attributes.get("RESOLUTION", ""):
        w, h = attributes["RESOLUTION"].lower().split("x", 1)
        width, height = int(_float(w) or 0) or None, int(_float(h) or 0) or None
    bandwidth = _float(attributes.get("BANDWIDTH", ""))
    return Variant(uri, int(bandwidth) if bandwidth else None, width, height, _float(attributes.get("FRAME-RATE", "")))


def _float(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None
