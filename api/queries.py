"""The API's SQL: parameterised ``text()`` statements (values are always bind parameters).

Source tables (streams, reader_sessions, snapshots, frame_windows, object_stats) live in the migrated
schema; the dbt marts (stream_hours, object_counts) in ``settings.api_marts_schema``, whose name is checked
against a strict identifier pattern and quoted. Means follow the marts (dbt_analytics/models/marts/_marts.yml):
sum(detections) divided by the stream's frames (zeros included), never an average of means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.exc import ProgrammingError

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")

STREAM_COLUMNS = """
    s.id, s.canonical_id, s.url, s.kind, s.name, s.title, s.channel, s.is_live, s.fps, s.status,
    s.status_reason, s.created_at,
    (SELECT max(rs.last_frame_at) FROM reader_sessions rs WHERE rs.stream_id = s.id) AS last_frame_at,
    EXISTS (SELECT 1 FROM snapshots sn WHERE sn.stream_id = s.id) AS has_snapshot
"""
STREAM_KEYS = ("id", "canonical_id", "url", "kind", "name", "title", "channel", "is_live", "fps", "status",
               "status_reason", "created_at", "last_frame_at", "has_snapshot")


def stream_dict(row: Any) -> dict[str, Any]:
    """A Stream object (``StreamOut``) from a row selected with STREAM_COLUMNS."""
    data = {key: getattr(row, key) for key in STREAM_KEYS}
    has_snapshot = data.pop("has_snapshot")
    data["snapshot_url"] = f"/api/streams/{data['id']}/snapshot" if has_snapshot else None
    return data


def like_pattern(query: str) -> str:
    """A case-insensitive substring pattern with LIKE's wildcards escaped (same rule as core.registry)."""
    return "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# ----------------------------------------------------------------------------------------------- streams


def list_streams(conn, statuses: list[str], query: str | None, limit: int, offset: int):
    conditions, params = [], {"limit": limit, "offset": offset}
    if statuses:
        conditions.append("s.status = ANY(CAST(:statuses AS text[]))")
        params["statuses"] = statuses
    if query:
        conditions.append("(s.name ILIKE :q OR s.title ILIKE :q OR s.canonical_id ILIKE :q)")
        params["q"] = like_pattern(query)
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    total = conn.execute(text(f"SELECT count(*) FROM streams s {where}"), params).scalar_one()
    rows = conn.execute(
        text(f"SELECT {STREAM_COLUMNS} FROM streams s {where} ORDER BY s.id LIMIT :limit OFFSET :offset"), params
    ).all()
    return [stream_dict(row) for row in rows], total


STREAM_BY_ID = text(f"SELECT {STREAM_COLUMNS} FROM streams s WHERE s.id = :id")


def get_stream(conn, stream_id: int) -> dict[str, Any] | None:
    row = conn.execute(STREAM_BY_ID, {"id": stream_id}).first()
    return None if row is None else stream_dict(row)


LATEST_SESSION = text("""
    SELECT id AS session_id, started_at, startup_seconds, frames_read, frames_published, stalls, reconnects,
           width, height, source_fps, bitrate, last_frame_at, last_error
    FROM reader_sessions WHERE stream_id = :id ORDER BY started_at DESC LIMIT 1
""")


def latest_health(conn, stream_id: int) -> dict[str, Any] | None:
    row = conn.execute(LATEST_SESSION, {"id": stream_id}).mappings().first()
    return None if row is None else dict(row)


SNAPSHOT = text("""
    SELECT md5(jpeg) AS etag, captured_at,
           CASE WHEN md5(jpeg) = ANY(CAST(:known AS text[])) THEN NULL ELSE jpeg END AS jpeg
    FROM snapshots WHERE stream_id = :id
""")


def snapshot(conn, stream_id: int, known_etags: list[str]):
    """(etag, captured_at, jpeg or None when the client's copy is current) or None without a snapshot."""
    row = conn.execute(SNAPSHOT, {"id": stream_id, "known": known_etags}).first()
    return None if row is None else (row.etag, row.captured_at, row.jpeg)


# -------------------------------------------------------------------------------------------------- marts

MART_TABLES = ("stream_hours", "object_counts")
UNDEFINED_TABLE = "42P01"


class MartsMissing(Exception):
    """The dbt marts do not exist yet (a fresh install before its first dbt build)."""


def is_missing_table(error: BaseException) -> bool:
    orig = getattr(error, "orig", None)
    return getattr(orig, "sqlstate", None) == UNDEFINED_TABLE or getattr(orig, "pgcode", None) == UNDEFINED_TABLE


def _on_marts(conn, statement, params):
    """Run a statement over the marts; a missing mart table becomes :class:`MartsMissing` (the caller answers
    "analytics not built yet" instead of a 500). The connection's transaction is rolled back first."""
    try:
        return conn.execute(statement, params).all()
    except ProgrammingError as error:
        if not is_missing_table(error):
            raise
        conn.rollback()
        raise MartsMissing(str(error.orig)) from None


def mart_health(conn, schema: str) -> list[dict[str, Any]]:
    """Each mart: does it exist, and how fresh is the newest source row it includes."""
    if not IDENTIFIER.fullmatch(schema):
        raise ValueError(f"invalid marts schema name {schema!r}")
    found = []
    for name in MART_TABLES:
        exists = conn.execute(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": f'"{schema}".{name}'}).scalar()
        newest = None
        if exists:
            has_column = conn.execute(text(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = :schema "
                "AND table_name = :name AND column_name = 'source_updated_at')"), {"schema": schema, "name": name},
            ).scalar()
            if has_column:
                newest = conn.execute(text(f'SELECT max(source_updated_at) FROM "{schema}".{name}')).scalar()
        found.append({"name": name, "exists": bool(exists), "newest_source_at": newest})
    return found


def last_window_at(conn):
    return conn.execute(text("SELECT max(updated_at) FROM frame_windows")).scalar()


@dataclass(frozen=True)
class MartQueries:
    """Statements over the dbt marts of one schema (built once per schema name)."""

    rankings: TextClause
    objects: TextClause
    top_objects: TextClause
    hour_series: TextClause
    hour_series_of: TextClause
    minute_series: TextClause
    minute_series_of: TextClause


@lru_cache(maxsize=8)
def mart_queries(schema: str) -> MartQueries:
    if not IDENTIFIER.fullmatch(schema):
        raise ValueError(f"invalid marts schema name {schema!r}")
    m = f'"{schema}"'
    return MartQueries(
        rankings=text(_RANKINGS.format(m=m, stream_columns=STREAM_COLUMNS)),
        objects=text(_OBJECTS.format(m=m)),
        top_objects=text(_TOP_OBJECTS.format(m=m)),
        hour_series=text(_series(_HOUR_FRAMES.format(m=m), _HOUR_COUNTS.format(m=m), filtered=False)),
        hour_series_of=text(_series(_HOUR_FRAMES.format(m=m), _HOUR_COUNTS.format(m=m), filtered=True)),
        minute_series=text(_series(_MINUTE_FRAMES, _MINUTE_COUNTS, filtered=False)),
        minute_series_of=text(_series(_MINUTE_FRAMES, _MINUTE_COUNTS, filtered=True)),
    )


# Hours whose start lies within [since, now]; streams with fewer than :min_frames frames are left out.
_RANKINGS = """
WITH frames AS (
    SELECT h.stream_id, sum(h.frames)::bigint AS frames, coalesce(sum(h.minutes_observed), 0)::float8 AS minutes
    FROM {m}.stream_hours h
    WHERE h.hour >= :since AND h.hour <= :now
    GROUP BY h.stream_id
    HAVING sum(h.frames) > 0 AND sum(h.frames) >= :min_frames
), counts AS (
    SELECT c.stream_id, c.object_class, sum(c.detections)::bigint AS detections,
           max(c.max_per_frame)::int AS max_per_frame, sum(c.unique_objects)::bigint AS unique_objects
    FROM {m}.object_counts c
    WHERE c.object_class = ANY(CAST(:objects AS text[])) AND c.hour >= :since AND c.hour <= :now
    GROUP BY c.stream_id, c.object_class
), scored AS (
    SELECT f.stream_id, f.frames, f.minutes, sum(c.detections)::float8 / f.frames AS score,
           array_agg(c.object_class) AS classes, array_agg(c.detections) AS detections,
           array_agg(c.max_per_frame) AS maxes, array_agg(c.unique_objects) AS uniques
    FROM frames f JOIN counts c ON c.stream_id = f.stream_id
    GROUP BY f.stream_id, f.frames, f.minutes
    HAVING sum(c.detections) > 0
), ranked AS (
    SELECT sc.*, row_number() OVER (ORDER BY sc.score DESC, sc.frames DESC, sc.stream_id) AS rank
    FROM scored sc WHERE EXISTS (SELECT 1 FROM streams x WHERE x.id = sc.stream_id)
)
SELECT r.rank, r.score, r.frames, r.minutes, r.classes, r.detections, r.maxes, r.uniques, {stream_columns}
FROM ranked r JOIN streams s ON s.id = r.stream_id
WHERE r.rank <= :limit
ORDER BY r.rank
"""

_OBJECTS = """
WITH hours AS (
    SELECT h.stream_id, h.frames FROM {m}.stream_hours h
    WHERE h.hour >= :since AND h.hour <= :now AND EXISTS (SELECT 1 FROM streams x WHERE x.id = h.stream_id)
), total AS (
    SELECT coalesce(sum(frames), 0)::bigint AS frames FROM hours
), classes AS (
    SELECT c.object_class, sum(c.detections)::bigint AS detections,
           count(DISTINCT c.stream_id) FILTER (WHERE c.detections > 0) AS streams
    FROM {m}.object_counts c
    WHERE c.hour >= :since AND c.hour <= :now AND EXISTS (SELECT 1 FROM streams x WHERE x.id = c.stream_id)
    GROUP BY c.object_class
    HAVING sum(c.detections) > 0
)
SELECT cl.object_class, cl.detections, cl.streams, t.frames
FROM classes cl CROSS JOIN total t
WHERE t.frames > 0
ORDER BY cl.detections DESC, cl.object_class
"""

_TOP_OBJECTS = """
WITH f AS (
    SELECT coalesce(sum(frames), 0)::bigint AS frames FROM {m}.stream_hours
    WHERE stream_id = :id AND hour >= :since AND hour <= :now
)
SELECT c.object_class, sum(c.detections)::float8 / f.frames AS mean_per_frame,
       max(c.max_per_frame)::int AS max_per_frame, sum(c.unique_objects)::bigint AS unique_objects
FROM {m}.object_counts c CROSS JOIN f
WHERE c.stream_id = :id AND c.hour >= :since AND c.hour <= :now AND f.frames > 0
GROUP BY c.object_class, f.frames
HAVING sum(c.detections) > 0
ORDER BY mean_per_frame DESC, c.object_class
LIMIT :limit
"""

_HOUR_FRAMES = """
    SELECT hour AS ts, sum(frames)::bigint AS frames FROM {m}.stream_hours
    WHERE stream_id = :id AND hour >= :start AND hour < :end GROUP BY hour
"""
_HOUR_COUNTS = """
    SELECT hour AS ts, object_class, sum(detections)::bigint AS detections, max(max_per_frame)::int AS max_per_frame,
           sum(unique_objects)::bigint AS unique_objects
    FROM {m}.object_counts WHERE stream_id = :id AND hour >= :start AND hour < :end GROUP BY hour, object_class
"""
_MINUTE = "(date_trunc('minute', window_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
_MINUTE_FRAMES = f"""
    SELECT {_MINUTE} AS ts, sum(frames)::bigint AS frames FROM frame_windows
    WHERE stream_id = :id AND window_start >= :start AND window_start < :end GROUP BY 1
"""
_MINUTE_COUNTS = f"""
    SELECT {_MINUTE} AS ts, object_class, sum(detections)::bigint AS detections,
           max(max_per_frame)::int AS max_per_frame, sum(unique_objects)::bigint AS unique_objects
    FROM object_stats WHERE stream_id = :id AND window_start >= :start AND window_start < :end GROUP BY 1, 2
"""


def _series(frames_sql: str, counts_sql: str, *, filtered: bool) -> str:
    """Every bucket with frames gets a point for every class (zeros are data); buckets without frames don't."""
    if filtered:
        classes = """SELECT o AS object_class,
                            coalesce((SELECT sum(c.detections) FROM c WHERE c.object_class = o), 0) AS total
                     FROM unnest(CAST(:objects AS text[])) AS o"""
    else:
        classes = "SELECT object_class, sum(detections) AS total FROM c GROUP BY 1 HAVING sum(detections) > 0"
    return f"""
WITH f AS ({frames_sql}), c AS ({counts_sql}), classes AS ({classes})
SELECT cl.object_class, f.ts, f.frames, coalesce(c.detections, 0) AS detections,
       coalesce(c.max_per_frame, 0) AS max_per_frame, coalesce(c.unique_objects, 0) AS unique_objects
FROM classes cl CROSS JOIN f
LEFT JOIN c ON c.ts = f.ts AND c.object_class = cl.object_class
WHERE f.frames > 0
ORDER BY cl.total DESC, cl.object_class, f.ts
"""


def rankings(conn, schema: str, objects: list[str], since: datetime, now: datetime, min_frames: int, limit: int):
    params = {"objects": objects, "since": since, "now": now, "min_frames": min_frames, "limit": limit}
    return _on_marts(conn, mart_queries(schema).rankings, params)


def overall_objects(conn, schema: str, since: datetime, now: datetime):
    return _on_marts(conn, mart_queries(schema).objects, {"since": since, "now": now})


def top_objects(conn, schema: str, stream_id: int, since: datetime, now: datetime, limit: int = 10):
    params = {"id": stream_id, "since": since, "now": now, "limit": limit}
    return _on_marts(conn, mart_queries(schema).top_objects, params)


def series(conn, schema: str, stream_id: int, start: datetime, end: datetime, minute: bool,
           objects: list[str] | None):
    queries = mart_queries(schema)
    if minute:
        statement = queries.minute_series_of if objects else queries.minute_series
    else:
        statement = queries.hour_series_of if objects else queries.hour_series
    params: dict[str, Any] = {"id": stream_id, "start": start, "end": end}
    if objects:
        params["objects"] = objects
    return _on_marts(conn, statement, params)
