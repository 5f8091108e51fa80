"""The Postgres side of zone counting: current zone and line definitions, the per-stream zone state, and the
rows of closed zone windows, written inside the window store's transaction (``PostgresStore._write``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import psycopg

from aggregator.zones import Definitions, ZoneFlush, definitions_from_rows

if TYPE_CHECKING:
    from aggregator.store import PostgresStore

LOAD_DEFINITIONS = """
SELECT stream_id, kind, id, version, name, points FROM zones
WHERE stream_id = ANY(%b) AND deleted_at IS NULL ORDER BY id
"""
LOAD_STATE = "SELECT stream_id, state FROM aggregator_zone_state WHERE stream_id = ANY(%b)"
UPSERT_STATE = """
INSERT INTO aggregator_zone_state (stream_id, state, updated_at)
SELECT *, now() FROM unnest(%b::int[], %b::text[]::jsonb[])
ON CONFLICT (stream_id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
"""
# A zone or line removed meanwhile (its id gone) drops its rows instead of failing the whole batch.
UPSERT_OCCUPANCY = """
INSERT INTO zone_occupancy (stream_id, window_start, model, zone_id, zone_version, object_class, window_end, frames,
                            detections, mean_per_frame, max_per_frame, objects, dwell_seconds, updated_at)
SELECT u.*, now() FROM unnest(%b::int[], %b::timestamptz[], %b::text[], %b::int[], %b::int[], %b::text[],
                              %b::timestamptz[], %b::int[], %b::int[], %b::float8[], %b::int[], %b::int[],
                              %b::float8[])
     AS u(stream_id, window_start, model, zone_id, zone_version, object_class, window_end, frames, detections,
          mean_per_frame, max_per_frame, objects, dwell_seconds)
WHERE EXISTS (SELECT 1 FROM zones z WHERE z.id = u.zone_id)
ON CONFLICT (stream_id, window_start, model, zone_id, zone_version, object_class) DO UPDATE SET
    window_end = EXCLUDED.window_end, frames = EXCLUDED.frames, detections = EXCLUDED.detections,
    mean_per_frame = EXCLUDED.mean_per_frame, max_per_frame = EXCLUDED.max_per_frame, objects = EXCLUDED.objects,
    dwell_seconds = EXCLUDED.dwell_seconds, updated_at = EXCLUDED.updated_at
"""
UPSERT_CROSSINGS = """
INSERT INTO line_crossings (stream_id, window_start, model, line_id, line_version, object_class, window_end,
                            crossings_in, crossings_out, updated_at)
SELECT u.*, now() FROM unnest(%b::int[], %b::timestamptz[], %b::text[], %b::int[], %b::int[], %b::text[],
                              %b::timestamptz[], %b::int[], %b::int[])
     AS u(stream_id, window_start, model, line_id, line_version, object_class, window_end, crossings_in,
          crossings_out)
WHERE EXISTS (SELECT 1 FROM zones z WHERE z.id = u.line_id)
ON CONFLICT (stream_id, window_start, model, line_id, line_version, object_class) DO UPDATE SET
    window_end = EXCLUDED.window_end, crossings_in = EXCLUDED.crossings_in,
    crossings_out = EXCLUDED.crossings_out, updated_at = EXCLUDED.updated_at
"""


def _columns(rows: list, *names: str) -> list[list]:
    return [[getattr(row, name) for row in rows] for name in names]


def write(cur: psycopg.Cursor, flush: ZoneFlush) -> None:
    """Write a zone flush with the cursor of the window store's open transaction."""
    if flush.occupancy:
        cur.execute(UPSERT_OCCUPANCY, _columns(
            flush.occupancy, "stream_id", "window_start", "model", "zone_id", "zone_version", "object_class",
            "window_end", "frames", "detections", "mean_per_frame", "max_per_frame", "objects", "dwell_seconds"))
    if flush.crossings:
        cur.execute(UPSERT_CROSSINGS, _columns(
            flush.crossings, "stream_id", "window_start", "model", "line_id", "line_version", "object_class",
            "window_end", "crossings_in", "crossings_out"))
    if flush.states:
        ids = sorted(flush.states)
        cur.execute(UPSERT_STATE, (ids, [json.dumps(flush.states[i], separators=(",", ":")) for i in ids]))


class PostgresZoneSource:
    """Reads for :class:`aggregator.zone_hook.ZoneCounting`, through the window store's connection and its
    retry semantics (a lost connection is ``StoreUnavailable``)."""

    def __init__(self, store: PostgresStore):
        self._store = store

    def load_definitions(self, stream_ids: set[int]) -> dict[int, Definitions]:
        def action(conn: psycopg.Connection) -> dict[int, Definitions]:
            return definitions_from_rows(list(conn.execute(LOAD_DEFINITIONS, (sorted(stream_ids),))))

        return self._store._run(action)

    def load_state(self, stream_ids: set[int]) -> dict[int, dict]:
        return self._store._run(
            lambda conn: {row[0]: row[1] for row in conn.execute(LOAD_STATE, (sorted(stream_ids),))})
