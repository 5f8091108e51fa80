"""SQL of the zones endpoints: figures and series from the aggregator's tables (they work before any dbt build)
and the crossing ranking from the dbt marts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text

from api.queries import IDENTIFIER, STREAM_COLUMNS, _on_marts

# Denominator: the stream's frames (frame_windows, every model) in windows that ended after this version began
# counting (its creation, or its first window when older data were counted with it: a backlog, a replay), so a
# zone drawn at noon is not diluted by the morning's frames.
FRAMES = text("""
SELECT date_trunc(:bucket, f.window_start) AS bucket, sum(f.frames)::bigint AS frames
FROM frame_windows f
WHERE f.stream_id = :stream AND f.window_start >= :since AND f.window_start < :until AND f.window_end > :created
GROUP BY 1 ORDER BY 1
""")
OCCUPANCY = text("""
SELECT date_trunc(:bucket, window_start) AS bucket, object_class, sum(detections)::bigint AS detections,
       max(max_per_frame) AS max_per_frame, sum(objects)::bigint AS objects, sum(dwell_seconds) AS dwell_seconds
FROM zone_occupancy
WHERE stream_id = :stream AND zone_id = :zone AND zone_version = :version
  AND window_start >= :since AND window_start < :until
GROUP BY 1, 2 ORDER BY 1, 2
""")
CROSSINGS = text("""
SELECT date_trunc(:bucket, window_start) AS bucket, object_class, sum(crossings_in)::bigint AS n_in,
       sum(crossings_out)::bigint AS n_out
FROM line_crossings
WHERE stream_id = :stream AND line_id = :zone AND line_version = :version
  AND window_start >= :since AND window_start < :until
GROUP BY 1, 2 ORDER BY 1, 2
""")
VERSION_CREATED = text("""
SELECT least(v.created_at,
             (SELECT min(o.window_start) FROM zone_occupancy o WHERE o.zone_id = v.zone_id
                AND o.zone_version = v.version),
             (SELECT min(c.window_start) FROM line_crossings c WHERE c.line_id = v.zone_id
                AND c.line_version = v.version))
FROM zone_versions v WHERE v.zone_id = :zone AND v.version = :version
""")


def figures(conn, stream_id: int, zone: Any, since: datetime, until: datetime, bucket: str) -> dict[str, Any]:
    """One zone's or line's figures at its current version: per class over the window, and per bucket."""
    created = conn.execute(VERSION_CREATED, {"zone": zone.id, "version": zone.version}).scalar_one()
    params = {"bucket": bucket, "stream": stream_id, "zone": zone.id, "version": zone.version, "since": since,
              "until": until, "created": created}
    frames = {row.bucket: row.frames for row in conn.execute(FRAMES, params)}
    total_frames = sum(frames.values())
    series: dict[datetime, dict[str, Any]] = {b: {"bucket": b, "frames": n} for b, n in frames.items()}
    classes: dict[str, dict[str, Any]] = {}
    if zone.kind == "zone":
        for row in conn.execute(OCCUPANCY, params):
            c = classes.setdefault(row.object_class, {"object": row.object_class, "detections": 0,
                                                      "max_per_frame": 0, "objects": 0, "dwell_seconds": 0.0})
            c["detections"] += row.detections
            c["max_per_frame"] = max(c["max_per_frame"], row.max_per_frame)
            c["objects"] += row.objects
            c["dwell_seconds"] += row.dwell_seconds
            point = series.setdefault(row.bucket, {"bucket": row.bucket, "frames": frames.get(row.bucket, 0)})
            point["detections"] = point.get("detections", 0) + row.detections
        for c in classes.values():
            c["mean_per_frame"] = c.pop("detections") / total_frames if total_frames else None
        for point in series.values():
            point["mean_per_frame"] = point.pop("detections", 0) / point["frames"] if point["frames"] else None
    else:
        for row in conn.execute(CROSSINGS, params):
            c = classes.setdefault(row.object_class, {"object": row.object_class, "crossings_in": 0,
                                                      "crossings_out": 0})
            c["crossings_in"] += row.n_in
            c["crossings_out"] += row.n_out
            point = series.setdefault(row.bucket, {"bucket": row.bucket, "frames": frames.get(row.bucket, 0)})
            point["crossings_in"] = point.get("crossings_in", 0) + row.n_in
            point["crossings_out"] = point.get("crossings_out", 0) + row.n_out
        for point in series.values():
            point.setdefault("crossings_in", 0)
            point.setdefault("crossings_out", 0)
    return {"id": zone.id, "kind": zone.kind, "name": zone.name, "version": zone.version, "frames": total_frames,
            "classes": sorted(classes.values(), key=lambda c: c["object"]),
            "series": [series[b] for b in sorted(series)]}


def crossing_ranking(conn, schema: str, object_class: str, since: datetime, now: datetime, min_frames: int,
                     limit: int) -> list:
    """Lines ranked by crossings (in + out) of one class per hour observed, from the dbt marts."""
    if not IDENTIFIER.fullmatch(schema):
        raise ValueError(f"bad marts schema {schema!r}")
    statement = text(f"""
        WITH observed AS (
            SELECT stream_id, sum(frames)::bigint AS frames, sum(minutes_observed) / 60.0 AS hours
            FROM {schema}.stream_hours WHERE hour >= date_trunc('hour', :since) AND hour <= :now GROUP BY stream_id
        ), lines AS (
            SELECT stream_id, line_id, max(line_name) AS line_name, sum(crossings_in)::bigint AS n_in,
                   sum(crossings_out)::bigint AS n_out
            FROM {schema}.line_crossing_hours
            WHERE object_class = :object AND hour >= date_trunc('hour', :since) AND hour <= :now
            GROUP BY stream_id, line_id
        )
        SELECT {STREAM_COLUMNS}, l.line_id, l.line_name, l.n_in, l.n_out, o.hours,
               (l.n_in + l.n_out) / o.hours AS per_hour
        FROM lines l JOIN observed o USING (stream_id) JOIN streams s ON s.id = l.stream_id
        WHERE o.hours > 0 AND o.frames >= :min_frames
        ORDER BY per_hour DESC, l.stream_id, l.line_id LIMIT :limit
    """)
    return _on_marts(conn, statement, {"object": object_class, "since": since, "now": now,
                                       "min_frames": min_frames, "limit": limit})
