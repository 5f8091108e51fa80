"""The zone machine's per-stream snapshot (``aggregator_zone_state.state``): tracks' line sides and counted
directions, the zones they were in, and the open zone windows. Every snapshot carries its layout (``"v"``)."""

from __future__ import annotations

from aggregator.zones import LineSide, StreamZones, Track, WindowZones, ZoneAcc

LAYOUT = 1


class UnknownZoneState(ValueError):
    """A snapshot of a layout this code cannot read (written by a newer version)."""


def encode(stream: StreamZones) -> dict:
    return {
        "v": LAYOUT,
        "watermark": stream.watermark,
        "tracks": [
            [sid, model, track_id, t.cls, t.last_ms, sorted(t.inside),
             {key: [s.side, s.x, s.y, s.counted] for key, s in sorted(t.lines.items())}]
            for (sid, model, track_id), t in sorted(stream.tracks.items())
        ],
        "windows": {
            str(start): {
                "frames": w.frames,
                "zones": [[*k, a.detections, a.max, a.dwell_ms, sorted([s, t] for s, t in a.tracks)]
                          for k, a in sorted(w.zones.items())],
                "crossings": [[*k, *v] for k, v in sorted(w.crossings.items())],
            }
            for start, w in sorted(stream.windows.items())
        },
    }


def decode(state: dict) -> StreamZones:
    if state.get("v") != LAYOUT:
        raise UnknownZoneState(f"zone state layout {state.get('v')!r}; this version reads {LAYOUT}")
    stream = StreamZones()
    stream.watermark = state["watermark"]
    for sid, model, track_id, cls, last_ms, zones_in, lines in state["tracks"]:
        track = Track(cls, last_ms)
        track.inside = set(zones_in)
        track.lines = {key: LineSide(side, x, y, counted) for key, (side, x, y, counted) in lines.items()}
        stream.tracks[(sid, model, track_id)] = track
    for start, data in state["windows"].items():
        window = WindowZones()
        window.frames = dict(data["frames"])
        for model, key, cls, detections, maximum, dwell_ms, tracks in data["zones"]:
            acc = ZoneAcc()
            acc.detections, acc.max, acc.dwell_ms = detections, maximum, dwell_ms
            acc.tracks = {(s, t) for s, t in tracks}
            window.zones[(model, key, cls)] = acc
        for model, key, cls, n_in, n_out in data["crossings"]:
            window.crossings[(model, key, cls)] = [n_in, n_out]
        stream.windows[int(start)] = window
    return stream
