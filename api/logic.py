"""Pure logic of the API: input normalisation and turning query rows into contract shapes (no I/O)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from api.errors import ApiError

MAX_OBJECTS = 20
MAX_OBJECT_LENGTH = 100
_SPACES = re.compile(r"\s+")


def normalise_objects(raw: Iterable[str], field: str = "object") -> list[str]:
    """Class names as stored by the detector (lower case, single spaces): "Traffic  Light" -> "traffic light".

    Multi-word classes stay whole: each ``object`` parameter is one class, never split on spaces.
    """
    names: list[str] = []
    for value in raw:
        if any((ord(ch) < 32 and ch not in " \t") or ord(ch) == 127 for ch in value):
            raise ApiError(422, "an object class contains control characters", field)
        name = _SPACES.sub(" ", value.strip()).lower()
        if not name:
            raise ApiError(422, "an object class is empty", field)
        if len(name) > MAX_OBJECT_LENGTH:
            raise ApiError(422, f"an object class is longer than {MAX_OBJECT_LENGTH} characters", field)
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in name) or not name.isprintable():
            raise ApiError(422, "an object class contains control characters", field)
        if name not in names:
            names.append(name)
    if len(names) > MAX_OBJECTS:
        raise ApiError(422, f"at most {MAX_OBJECTS} object classes at once", field)
    return names


def check_text(value: str | None, field: str, max_length: int = 200) -> str | None:
    """Free text for a filter: bounded, no control characters (Postgres refuses NUL)."""
    if value is None:
        return None
    if len(value) > max_length:
        raise ApiError(422, f"{field} is longer than {max_length} characters", field)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value) or not _utf8(value):
        raise ApiError(422, f"{field} contains control characters", field)
    return value


def _utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def as_utc(moment: datetime) -> datetime:
    """Aware UTC datetime; a naive one is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


MAX_SERIES_SPAN = {"minute": timedelta(days=3), "hour": timedelta(days=366)}


def series_range(start: datetime | None, end: datetime | None, bucket: str, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of a time series: default the last 24 h; refuse reversed or too long ranges (422)."""
    try:
        end = as_utc(end) if end is not None else now
        start = as_utc(start) if start is not None else end - timedelta(hours=24)
    except (OverflowError, ValueError):
        raise ApiError(422, "the time range is out of bounds", "from") from None
    if start >= end:
        raise ApiError(422, "'from' must be before 'to'", "from")
    limit = MAX_SERIES_SPAN[bucket]
    if end - start > limit:
        raise ApiError(422, f"at most {limit.days} days at a time with bucket={bucket}", "from")
    return start, end


def ranking_items(rows: Sequence[Any], objects: list[str], stream_of) -> list[dict[str, Any]]:
    """Contract items from ranking rows; classes a stream never showed get zeros in ``per_object``."""
    items = []
    for row in rows:
        columns = zip(row.classes, row.detections, row.maxes, row.uniques, strict=True)
        seen = {cls: (detections, maximum, unique) for cls, detections, maximum, unique in columns}
        per_object = []
        for cls in objects:
            detections, maximum, unique = seen.get(cls, (0, 0, 0))
            per_object.append({"object": cls, "mean_per_frame": detections / row.frames,
                               "max_per_frame": maximum or 0, "unique_objects": unique or 0,
                               "detections": detections or 0})
        items.append({"rank": row.rank, "stream": stream_of(row), "score": row.score, "frames": row.frames,
                      "minutes_observed": row.minutes, "per_object": per_object})
    return items


def hour_of_week(moment: datetime) -> int:
    """0..167 for the UTC hour of ``moment``, Monday 00h = 0 (as in the dbt baselines)."""
    utc = as_utc(moment)
    return utc.weekday() * 24 + utc.hour


def trending_items(rows: Sequence[Any], stream_of) -> list[dict[str, Any]]:
    """Contract items from trending_now rows (dbt's ranks, in order)."""
    return [{"rank": row.rank, "stream": stream_of(row), "object": row.object_class, "observed": row.observed,
             "expected": row.expected, "mad": row.mad, "score": row.score, "frames": row.frames,
             "detections": row.detections, "history_hours": row.history_hours, "history_weeks": row.history_weeks}
            for row in rows]


def object_items(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Overall class ranking as dbt ranked it (overall_object_ranking: detections / frames of all streams)."""
    return [{"object": r.object_class, "rank": r.rank, "mean_per_frame": r.mean_per_frame,
             "streams": r.streams, "frames": r.frames} for r in rows]


def series_items(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows ordered by class then time -> one series per class."""
    series: list[dict[str, Any]] = []
    for row in rows:
        if not series or series[-1]["object"] != row.object_class:
            series.append({"object": row.object_class, "points": []})
        series[-1]["points"].append({
            "t": row.ts, "mean_per_frame": row.detections / row.frames, "max_per_frame": row.max_per_frame,
            "unique_objects": row.unique_objects, "frames": row.frames,
        })
    return series
