"""Zone occupancy and line crossings from tracks: pure logic, no Pulsar, no Postgres, no clock.

The aggregator feeds :class:`ZoneMachine` every detection message the window machine *counted* (duplicates and
late data never reach it), in the stream's order, and tells it which windows the window machine closed; the
machine hands back the rows of those windows and a snapshot of each stream it touched (track sides, counted
crossings, open zone windows), which go into the same transaction as the window machine's rows and snapshots.
So a crash rebuilds exactly the state of the last commit, and the redelivered messages of the batch that was not
committed are counted once: the exactly-once effect of ``aggregator/windows.py`` extends to crossings.

Rules (docs/architecture.md, "Zones and counting lines"):

- A detection's position is its box's bottom centre (:func:`core.geometry.anchor`).
- Zone occupancy counts detections (tracked or not) whose anchor is inside the zone; time in the zone adds, per
  track, the time between two consecutive samples that both had it inside (at most 10 s per gap).
- A line crossing needs a track. Each track has a *settled side* per line: it changes only when the anchor is
  more than ``band`` (share of the picture) away from the line, so a box that flickers on the line does not
  count. When the settled side flips, the crossing counts if the path from the last settled position to the new
  one meets the line's segment (not its extension): a fast object that jumps across between two sampled frames
  still counts. Each track counts at most once per line and direction.
- A sample older than the track's last one (out of order) does not move the track.
- Track state is kept ``track_ttl_s`` after the track was last seen (stream event time), then forgotten.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from core.geometry import Point, anchor, inside, segments_intersect, signed_distance
from core.messages import DetectionMessage, from_millis, to_millis

DEFAULT_BAND = 0.01
DEFAULT_TRACK_TTL_S = 300.0
MAX_DWELL_GAP_MS = 10_000  # a track unseen longer than this between two samples inside adds only this much
TrackKey = tuple[str, str, int]  # (session id, model, track id)


@dataclass(frozen=True, slots=True)
class ZoneDef:
    zone_id: int
    version: int
    name: str
    points: tuple[Point, ...]

    @property
    def key(self) -> str:
        return f"{self.zone_id}:{self.version}"


@dataclass(frozen=True, slots=True)
class LineDef:
    line_id: int
    version: int
    name: str
    a: Point
    b: Point

    @property
    def key(self) -> str:
        return f"{self.line_id}:{self.version}"


@dataclass(frozen=True, slots=True)
class Definitions:
    """A stream's zones and lines, at their current versions."""

    zones: tuple[ZoneDef, ...] = ()
    lines: tuple[LineDef, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.zones or self.lines)


@dataclass(frozen=True, slots=True)
class OccupancyRow:
    stream_id: int
    window_start: datetime
    model: str
    zone_id: int
    zone_version: int
    object_class: str
    window_end: datetime
    frames: int
    detections: int
    mean_per_frame: float
    max_per_frame: int
    objects: int  # distinct tracks seen inside in this window
    dwell_seconds: float  # summed over tracks


@dataclass(frozen=True, slots=True)
class CrossingRow:
    stream_id: int
    window_start: datetime
    model: str
    line_id: int
    line_version: int
    object_class: str
    window_end: datetime
    crossings_in: int
    crossings_out: int


@dataclass(slots=True)
class ZoneFlush:
    """Rows of closed windows and the per-stream state to replace, written with the window machine's flush."""

    occupancy: list[OccupancyRow] = field(default_factory=list)
    crossings: list[CrossingRow] = field(default_factory=list)
    states: dict[int, dict] = field(default_factory=dict)  # stream id -> JSON-ready snapshot

    def __bool__(self) -> bool:
        return bool(self.occupancy or self.crossings or self.states)

    def without(self, streams: set[int]) -> ZoneFlush:
        return ZoneFlush([r for r in self.occupancy if r.stream_id not in streams],
                         [r for r in self.crossings if r.stream_id not in streams],
                         {k: v for k, v in self.states.items() if k not in streams})


class LineSide:
    """One track's state against one line: settled side (0 = not yet known), where it was last settled, and
    the directions already counted ("in" = +1, "out" = -1)."""

    __slots__ = ("counted", "side", "x", "y")

    def __init__(self, side: int = 0, x: float = 0.0, y: float = 0.0, counted: int = 0):
        self.side, self.x, self.y = side, x, y
        self.counted = counted  # bit 1: in counted, bit 2: out counted


def step_line(state: LineSide, point: Point, line: LineDef, band: float) -> int:
    """Move a track's line state to ``point``: +1 when this step counts an "in" crossing, -1 an "out", else 0."""
    d = signed_distance(point, line.a, line.b)
    if -band <= d <= band:
        return 0  # on the line, within the band: nothing settles
    side = 1 if d > 0 else -1
    crossed = 0
    if state.side == -side:
        bit = 1 if side > 0 else 2
        if not state.counted & bit and segments_intersect((state.x, state.y), point, line.a, line.b):
            state.counted |= bit
            crossed = side
    state.side, state.x, state.y = side, point[0], point[1]
    return crossed


class Track:
    __slots__ = ("cls", "inside", "last_ms", "lines")

    def __init__(self, cls: str, last_ms: int):
        self.cls = cls
        self.last_ms = last_ms
        self.lines: dict[str, LineSide] = {}
        self.inside: set[str] = set()  # zone keys the anchor was in at the last sample


class ZoneAcc:
    """One (model, zone, class) of an open window."""

    __slots__ = ("detections", "dwell_ms", "max", "tracks")

    def __init__(self) -> None:
        self.detections = 0
        self.max = 0
        self.dwell_ms = 0
        self.tracks: set[tuple[str, int]] = set()


class WindowZones:
    """The zone and line totals of one open window."""

    __slots__ = ("crossings", "frames", "zones")

    def __init__(self) -> None:
        self.frames: dict[str, int] = {}  # model -> frames counted
        self.zones: dict[tuple[str, str, str], ZoneAcc] = {}  # (model, zone key, class)
        self.crossings: dict[tuple[str, str, str], list[int]] = {}  # (model, line key, class) -> [in, out]


class StreamZones:
    __slots__ = ("dirty", "tracks", "watermark", "windows")

    def __init__(self) -> None:
        self.tracks: dict[TrackKey, Track] = {}
        self.windows: dict[int, WindowZones] = {}
        self.watermark = -(2**62)
        self.dirty = False


class ZoneMachine:
    """Per-stream zone and line counting; see the module doc. ``definitions(stream_id)`` gives a stream's
    current zones and lines (a cache the caller refreshes)."""

    def __init__(self, window_seconds: float, *, band: float = DEFAULT_BAND,
                 track_ttl_s: float = DEFAULT_TRACK_TTL_S):
        self.window_ms = round(window_seconds * 1000)
        self.band = band
        self.ttl_ms = round(track_ttl_s * 1000)
        self._streams: dict[int, StreamZones] = {}
        self._defs: dict[int, Definitions] = {}
        self.out_of_order = 0

    # ----------------------------------------------------------------------------------- state loading

    def unknown(self, stream_ids: Iterable[int]) -> set[int]:
        return {s for s in stream_ids if s not in self._streams}

    def restore(self, stream_id: int, state: dict | None) -> None:
        if stream_id not in self._streams:
            from aggregator.zone_state import decode

            self._streams[stream_id] = decode(state) if state else StreamZones()

    def set_definitions(self, stream_id: int, definitions: Definitions) -> None:
        self._defs[stream_id] = definitions

    def forget(self, stream_id: int) -> None:
        self._streams.pop(stream_id, None)

    def evict(self) -> int:
        """Forget streams with no open window and nothing unwritten (their state is in Postgres)."""
        quiet = [sid for sid, s in self._streams.items() if not s.windows and not s.dirty]
        for stream_id in quiet:
            del self._streams[stream_id]
        return len(quiet)

    # ------------------------------------------------------------------------------------------ input

    def add(self, message: DetectionMessage) -> None:
        """Count one message (the window machine counted it: not a duplicate, not late)."""
        defs = self._defs.get(message.stream_id)
        stream = self._streams[message.stream_id]
        if not defs and not stream.windows and not stream.tracks:
            return
        capture_ms = to_millis(message.capture_time)
        start = capture_ms - capture_ms % self.window_ms
        window = stream.windows.get(start)
        if window is None:
            window = stream.windows[start] = WindowZones()
        stream.dirty = True
        if capture_ms > stream.watermark:
            stream.watermark = capture_ms
        model = message.model
        window.frames[model] = window.frames.get(model, 0) + 1
        if not defs:
            return
        per_frame: dict[tuple[str, str, str], int] = {}
        for detection in message.detections:
            point = anchor(detection.box)
            zones_in = [z.key for z in defs.zones if inside(point, z.points)]
            for key in zones_in:
                k = (model, key, detection.class_name)
                per_frame[k] = per_frame.get(k, 0) + 1
            if detection.track_id is None:
                continue
            tkey = (message.session_id, model, detection.track_id)
            track = stream.tracks.get(tkey)
            if track is None:
                track = stream.tracks[tkey] = Track(detection.class_name, capture_ms)
                previous_ms = None
            elif capture_ms <= track.last_ms:
                self.out_of_order += 1
                continue
            else:
                previous_ms = track.last_ms
                track.last_ms = capture_ms
            track.cls = detection.class_name
            for key in zones_in:
                acc = self._zone(window, (model, key, detection.class_name))
                acc.tracks.add((message.session_id, detection.track_id))
                if previous_ms is not None and key in track.inside:
                    acc.dwell_ms += min(capture_ms - previous_ms, MAX_DWELL_GAP_MS)
            track.inside = set(zones_in)
            for line in defs.lines:
                state = track.lines.get(line.key)
                if state is None:
                    state = track.lines[line.key] = LineSide()
                crossed = step_line(state, point, line, self.band)
                if crossed:
                    counts = window.crossings.setdefault((model, line.key, detection.class_name), [0, 0])
                    counts[0 if crossed > 0 else 1] += 1
        for k, count in per_frame.items():
            acc = self._zone(window, k)
            acc.detections += count
            if count > acc.max:
                acc.max = count

    @staticmethod
    def _zone(window: WindowZones, key: tuple[str, str, str]) -> ZoneAcc:
        acc = window.zones.get(key)
        if acc is None:
            acc = window.zones[key] = ZoneAcc()
        return acc

    # ----------------------------------------------------------------------------------------- output

    def take(self, closed: Iterable[tuple[int, datetime]]) -> ZoneFlush:
        """The rows of every zone window the window machine closed (``closed``: (stream, window start); each
        also closes the stream's earlier zone windows), and the snapshots of streams changed since the last
        take. Call after every window-machine take, with its closed windows."""
        out = ZoneFlush()
        latest: dict[int, int] = {}
        for stream_id, closed_start in closed:
            ms = to_millis(closed_start)
            if ms > latest.get(stream_id, -(2**62)):
                latest[stream_id] = ms
        for stream_id, until in latest.items():
            stream = self._streams.get(stream_id)
            if stream is None:
                continue
            for start in sorted(s for s in stream.windows if s <= until):
                self._close(stream_id, start, stream.windows.pop(start), out)
                stream.dirty = True  # (a stream without zones has no zone windows: nothing to write)
        from aggregator.zone_state import encode

        for stream_id, stream in self._streams.items():
            if stream.dirty:
                horizon = stream.watermark - self.ttl_ms
                for key in [k for k, t in stream.tracks.items() if t.last_ms < horizon]:
                    del stream.tracks[key]
                out.states[stream_id] = encode(stream)
                stream.dirty = False
        return out

    def _close(self, stream_id: int, start_ms: int, window: WindowZones, out: ZoneFlush) -> None:
        start, end = from_millis(start_ms), from_millis(start_ms + self.window_ms)
        for (model, key, cls), acc in sorted(window.zones.items()):
            zone_id, version = (int(v) for v in key.split(":"))
            frames = window.frames.get(model, 0)
            out.occupancy.append(OccupancyRow(
                stream_id, start, model, zone_id, version, cls, end, frames, acc.detections,
                acc.detections / frames if frames else 0.0, acc.max, len(acc.tracks), acc.dwell_ms / 1000.0))
        for (model, key, cls), (n_in, n_out) in sorted(window.crossings.items()):
            line_id, version = (int(v) for v in key.split(":"))
            out.crossings.append(CrossingRow(stream_id, start, model, line_id, version, cls, end, n_in, n_out))

    # ------------------------------------------------------------------------------------ inspection

    def stream(self, stream_id: int) -> StreamZones | None:
        return self._streams.get(stream_id)


def definitions_from_rows(rows: Sequence[tuple[int, str, int, str, list]]) -> dict[int, Definitions]:
    """(stream id, kind, id, version, name, points) rows of the current versions -> per-stream definitions."""
    zones: dict[int, list[ZoneDef]] = {}
    lines: dict[int, list[LineDef]] = {}
    for stream_id, kind, item_id, version, name, points in rows:  # type: ignore[misc]
        pts = tuple((float(x), float(y)) for x, y in points)
        if kind == "zone":
            zones.setdefault(stream_id, []).append(ZoneDef(item_id, version, name, pts))
        else:
            lines.setdefault(stream_id, []).append(LineDef(item_id, version, name, pts[0], pts[1]))
    return {sid: Definitions(tuple(zones.get(sid, ())), tuple(lines.get(sid, ())))
            for sid in set(zones) | set(lines)}
