"""``streamscope stats``: the latest windows per stream and class, read back from Postgres."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)

# Per stream and model: its latest window (the denominator). Per stream, model and class: the latest window
# where the class was seen, with that window's figures.
LATEST_WINDOWS = text("""
SELECT DISTINCT ON (f.stream_id, f.model) f.stream_id, s.name, f.model, f.window_start, f.window_end, f.frames
FROM frame_windows f JOIN streams s ON s.id = f.stream_id
WHERE (CAST(:stream AS int) IS NULL OR f.stream_id = :stream)
  AND (CAST(:since AS timestamptz) IS NULL OR f.window_start >= :since)
ORDER BY f.stream_id, f.model, f.window_start DESC
""")
LATEST_CLASSES = text("""
SELECT DISTINCT ON (o.stream_id, o.model, o.object_class) o.stream_id, o.model, o.object_class, o.window_start,
       o.window_end, o.frames, o.detections, o.mean_per_frame, o.max_per_frame, o.min_per_frame, o.unique_objects
FROM object_stats o
WHERE (CAST(:stream AS int) IS NULL OR o.stream_id = :stream)
  AND (CAST(:since AS timestamptz) IS NULL OR o.window_start >= :since)
ORDER BY o.stream_id, o.model, o.object_class, o.window_start DESC
""")


def parse_duration(value: str) -> timedelta:
    """``90``, ``90s``, ``15m``, ``2h``, ``7d``, ``1w`` -> timedelta; ValueError otherwise."""
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 2h, 7d)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()])


def latest(session: Session, stream_id: int | None = None, since: datetime | None = None) -> list[dict]:
    """One entry per stream and model: its latest window, and per class the latest window it was seen in."""
    params = {"stream": stream_id, "since": since}
    entries: dict[tuple[int, str], dict] = {}
    for row in session.execute(LATEST_WINDOWS, params).mappings():
        entries[(row["stream_id"], row["model"])] = {
            "stream_id": row["stream_id"],
            "name": row["name"],
            "model": row["model"],
            "window_start": row["window_start"].isoformat(),
            "window_end": row["window_end"].isoformat(),
            "frames": row["frames"],
            "classes": [],
        }
    for row in session.execute(LATEST_CLASSES, params).mappings():
        entry = entries.get((row["stream_id"], row["model"]))
        if entry is None:
            continue
        entry["classes"].append({
            "object_class": row["object_class"],
            "window_start": row["window_start"].isoformat(),
            "window_end": row["window_end"].isoformat(),
            "frames": row["frames"],
            "detections": row["detections"],
            "mean_per_frame": row["mean_per_frame"],
            "max_per_frame": row["max_per_frame"],
            "min_per_frame": row["min_per_frame"],
            "unique_objects": row["unique_objects"],
        })
    return list(entries.values())


def format_table(entries: list[dict]) -> str:
    """For people in a terminal: one block per stream and model, one line per class."""
    if not entries:
        return "no windows yet"
    lines = []
    for entry in entries:
        lines.append(
            f"stream {entry['stream_id']} {entry['name']!r} ({entry['model']}): latest window "
            f"{_short(entry['window_start'])} .. {_short(entry['window_end'])}, {entry['frames']} frames"
        )
        if not entry["classes"]:
            lines.append("  (no objects)")
            continue
        lines.append(f"  {'CLASS':20} {'WINDOW':19} {'FRAMES':>6} {'DETECT':>7} {'MEAN':>7} {'MAX':>4} {'MIN':>4} "
                     f"{'UNIQUE':>6}")
        for c in entry["classes"]:
            lines.append(
                f"  {c['object_class'][:20]:20} {_short(c['window_start']):19} {c['frames']:>6} {c['detections']:>7} "
                f"{c['mean_per_frame']:>7.2f} {c['max_per_frame']:>4} {c['min_per_frame']:>4} {c['unique_objects']:>6}"
            )
    return "\n".join(lines)


def _short(iso: str) -> str:
    return iso[:19].replace("T", " ")
