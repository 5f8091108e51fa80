"""The API's SQL: parameterised ``text()`` statements (values are always bind parameters).

Source tables (streams, reader_sessions, snapshots, frame_windows, object_stats) live in the migrated
schema; the dbt marts in ``settings.api_marts_schema``, whose name is checked against a strict identifier
pattern and quoted. Rankings and trending are dbt's (video_rankings, overall_object_ranking, trending_now: views
that take the request's "now" from the session setting ``streamscope.as_of``): the API reads their ranks and
minimum-evidence rules as they are. Series and a stream's top classes read stream_hours / object_counts; means
are sum(detections) divided by the stream's frames (zeros included), never an average of means.
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

MART_TABLES = ("stream_hours", "object_counts", "video_rankings", "overall_object_ranking", "stream_class_baselines",
               "trending_now")
AS_OF = text("SELECT set_config('streamscope.as_of', :now, true)")
UNDEFINED_TABLE = "42P01"


class MartsMissing(Exception):
    """The dbt marts do not exist yet (a fresh install before its first dbt build)."""


def is_missing_table(error: BaseException) -> bool:
    orig = getattr(error, "orig", None)
    return getattr(orig, "sqlstate", None) == UNDEFINED_TABLE or getattr(orig, "pgcode", None) == UNDEFINED_TABLE


def _on_marts(conn, statement, params, now: datetime | None = None):
    """Run a statement over the marts; a missing mart table becomes :class:`MartsMissing` (the caller answers
    "analytics not built yet" instead of a 500). The connection's transaction is rolled back first. With
    ``now``, dbt's views answer for that moment (a transaction-local setting)."""
    try:
        if now is not None:
            conn.execute(AS_OF, {"now": now.isoformat()})
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
    trending: TextClause
    trending_of: TextClause
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
        trending=text(_TRENDING.format(m=m, stream_columns=STREAM_COLUMNS, rank="stream_rank")),
        trending_of=text(_TRENDING.format(m=m, stream_columns=STREAM_COLUMNS, rank="class_rank")
                         .replace("WHERE t.", "WHERE t.object_class = :object AND t.")),
        top_objects=text(_TOP_OBJECTS.format(m=m)),
        hour_series=text(_series(_HOUR_FRAMES.format(m=m), _HOUR_COUNTS.format(m=m), filtered=False)),
        hour_series_of=text(_series(_HOUR_FRAMES.format(m=m), _HOUR_COUNTS.format(m=m), filtered=True)),
        minute_series=text(_series(_MINUTE_FRAMES, _MINUTE_COUNTS, filtered=False)),
        minute_series_of=text(_series(_MINUTE_FRAMES, _MINUTE_COUNTS, filtered=True)),
    )


# dbt's ranking of one window (video_rankings: minimum evidence, order); for several classes a stream's score is
# the sum of their means (detections / the stream's frames, the same frames for every class) with the same order.
_RANKINGS = """
WITH r AS (
    SELECT * FROM {m}.video_rankings
    WHERE lookback_hours = :hours AND object_class = ANY(CAST(:objects AS text[]))
), scored AS (
    SELECT r.stream_id, max(r.frames)::bigint AS frames, max(r.minutes_observed)::float8 AS minutes,
           sum(r.detections)::float8 / max(r.frames) AS score,
           array_agg(r.object_class) AS classes, array_agg(r.detections) AS detections,
           array_agg(r.max_per_frame) AS maxes, array_agg(r.unique_objects) AS uniques
    FROM r
    GROUP BY r.stream_id
    HAVING sum(r.detections) > 0
), ranked AS (
    SELECT sc.*, row_number() OVER (ORDER BY sc.score DESC, sc.frames DESC, sc.stream_id) AS rank FROM scored sc
)
SELECT r.rank, r.score, r.frames, r.minutes, r.classes, r.detections, r.maxes, r.uniques, {stream_columns}
FROM ranked r JOIN streams s ON s.id = r.stream_id
WHERE r.rank <= :limit
ORDER BY r.rank
"""

_OBJECTS = """
SELECT object_class, rank, mean_per_frame, detections, streams, frames FROM {m}.overall_object_ranking
WHERE lookback_hours = :hours ORDER BY rank
"""

# trending_now's ranks as they are: the streams by their highest-scoring class, or the streams for one class.
_TRENDING = """
SELECT t.{rank} AS rank, t.object_class, t.observed, t.expected, t.mad, t.score, t.frames, t.detections,
       t.history_hours, t.history_weeks, t.hour, t.hour_of_week, {stream_columns}
FROM {m}.trending_now t JOIN streams s ON s.id = t.stream_id
WHERE t.{rank} IS NOT NULL AND t.{rank} <= :limit AND t.score >= :min_score
ORDER BY t.{rank}
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


def rankings(conn, schema: str, objects: list[str], hours: int, now: datetime, limit: int):
    params = {"objects": objects, "hours": hours, "limit": limit}
    return _on_marts(conn, mart_queries(schema).rankings, params, now)


def overall_objects(conn, schema: str, hours: int, now: datetime):
    return _on_marts(conn, mart_queries(schema).objects, {"hours": hours}, now)


def trending(conn, schema: str, now: datetime, limit: int, object_class: str | None, min_score: float):
    queries = mart_queries(schema)
    params: dict[str, Any] = {"limit": limit, "min_score": min_score}
    if object_class is not None:
        params["object"] = object_class
    return _on_marts(conn, queries.trending_of if object_class is not None else queries.trending, params, now)


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
