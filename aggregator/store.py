"""The Postgres side of the aggregator: load persisted state; write a batch's effect in one transaction.

Rows go in as arrays through ``unnest`` (one statement and one round trip per table, however many rows), with
``INSERT ... ON CONFLICT DO UPDATE`` so a recomputed window replaces its rows. Parameters go in binary (``%b``):
psycopg then dumps arrays in C instead of escaping every text element. Snapshots of open windows are written
and deleted only at the version this process last saw: a mismatch means another process has taken the stream
over (a Key_Shared rebalance), so this process's view is stale and its rows for that stream are left out. A lost
connection becomes :class:`StoreUnavailable`, which the pipeline retries with backoff, acknowledgements held.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

import psycopg
from psycopg import errors
from psycopg.types.json import Jsonb

from aggregator.pipeline import Loaded, LoadedClosed, StoreUnavailable
from aggregator.ranges import IntRanges
from aggregator.rows import Flush, OpenWindow, SessionKey
from aggregator.snapshot import session_keys
from core.runtime import RuntimeNotRunning, database_url
from core.settings import Settings

log = logging.getLogger(__name__)

LOAD_STREAMS = """
SELECT s.id, (SELECT max(f.window_end) FROM frame_windows f WHERE f.stream_id = s.id)
FROM streams s WHERE s.id = ANY(%b)
"""
SESSION_KEYS = "unnest(%b::int[], %b::text[], %b::text[]) AS k(stream_id, session_id, model)"
LOAD_SESSIONS = f"""
SELECT a.stream_id, a.session_id, a.model, a.seqs FROM aggregator_sessions a JOIN {SESSION_KEYS}
USING (stream_id, session_id, model)
"""
LOAD_TRACKS = f"""
SELECT t.stream_id, t.session_id, t.model, t.object_class, t.track_id, t.window_start
FROM aggregator_tracks t JOIN {SESSION_KEYS}
USING (stream_id, session_id, model)
"""
UPSERT_FRAME_WINDOWS = """
INSERT INTO frame_windows (stream_id, window_start, model, window_end, frames, sessions, first_capture_at,
                           last_capture_at, updated_at)
SELECT *, now() FROM unnest(%b::int[], %b::timestamptz[], %b::text[], %b::timestamptz[], %b::int[], %b::int[],
                            %b::timestamptz[], %b::timestamptz[])
ON CONFLICT (stream_id, window_start, model) DO UPDATE SET
    window_end = EXCLUDED.window_end, frames = EXCLUDED.frames, sessions = EXCLUDED.sessions,
    first_capture_at = EXCLUDED.first_capture_at, last_capture_at = EXCLUDED.last_capture_at,
    updated_at = EXCLUDED.updated_at
"""
UPSERT_OBJECT_STATS = """
INSERT INTO object_stats (stream_id, window_start, model, object_class, window_end, class_id, frames, detections,
                          mean_per_frame, max_per_frame, min_per_frame, unique_objects, updated_at)
SELECT *, now() FROM unnest(%b::int[], %b::timestamptz[], %b::text[], %b::text[], %b::timestamptz[], %b::int[],
                            %b::int[], %b::int[], %b::float8[], %b::int[], %b::int[], %b::int[])
ON CONFLICT (stream_id, window_start, model, object_class) DO UPDATE SET
    window_end = EXCLUDED.window_end, class_id = EXCLUDED.class_id, frames = EXCLUDED.frames,
    detections = EXCLUDED.detections, mean_per_frame = EXCLUDED.mean_per_frame,
    max_per_frame = EXCLUDED.max_per_frame, min_per_frame = EXCLUDED.min_per_frame,
    unique_objects = EXCLUDED.unique_objects, updated_at = EXCLUDED.updated_at
"""
# A window replaces its rows as a whole: class rows of these windows not written by this transaction (now() is
# the transaction's start time, the updated_at of every row just upserted) are left over from an earlier run.
DELETE_STALE_OBJECT_STATS = """
DELETE FROM object_stats o
USING unnest(%b::int[], %b::timestamptz[], %b::text[]) AS w(stream_id, window_start, model)
WHERE o.stream_id = w.stream_id AND o.window_start = w.window_start AND o.model = w.model
  AND o.updated_at <> now()
"""
INSERT_LATE = """
INSERT INTO late_detections (stream_id, session_id, seq, capture_time)
SELECT * FROM unnest(%b::int[], %b::text[], %b::int8[], %b::timestamptz[])
ON CONFLICT DO NOTHING
"""
UPSERT_SESSIONS = """
INSERT INTO aggregator_sessions (stream_id, session_id, model, seqs, updated_at)
SELECT *, now() FROM unnest(%b::int[], %b::text[], %b::text[], %b::jsonb[])
ON CONFLICT (stream_id, session_id, model) DO UPDATE SET seqs = EXCLUDED.seqs, updated_at = EXCLUDED.updated_at
"""
INSERT_TRACKS = """
INSERT INTO aggregator_tracks (stream_id, session_id, model, object_class, track_id, window_start)
SELECT * FROM unnest(%b::int[], %b::text[], %b::text[], %b::text[], %b::int8[], %b::timestamptz[])
ON CONFLICT (stream_id, session_id, model, object_class, track_id) DO UPDATE SET window_start = EXCLUDED.window_start
"""
# Late data: a written window's full state, and the windows whose unique objects an earlier window took over.
UPSERT_CLOSED = """
INSERT INTO aggregator_closed (stream_id, window_start, state, updated_at)
SELECT *, now() FROM unnest(%b::int[], %b::timestamptz[], %b::text[]::jsonb[])
ON CONFLICT (stream_id, window_start) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
"""
LOAD_CLOSED = """
SELECT k.stream_id, k.window_start, c.state,
       EXISTS (SELECT 1 FROM frame_windows f WHERE f.stream_id = k.stream_id AND f.window_start = k.window_start)
FROM unnest(%b::int[], %b::timestamptz[]) AS k(stream_id, window_start)
LEFT JOIN aggregator_closed c USING (stream_id, window_start)
"""
MOVE_UNIQUE = """
UPDATE object_stats o SET unique_objects = o.unique_objects - m.n, updated_at = now()
FROM (SELECT stream_id, window_start, model, object_class, count(*) AS n
      FROM unnest(%b::int[], %b::timestamptz[], %b::text[], %b::text[])
           AS u(stream_id, window_start, model, object_class)
      GROUP BY 1, 2, 3, 4) m
WHERE o.stream_id = m.stream_id AND o.window_start = m.window_start AND o.model = m.model
  AND o.object_class = m.object_class
"""
PRUNE_CLOSED = "DELETE FROM aggregator_closed WHERE window_start < now() - make_interval(secs => %b::float8)"
LOAD_OPEN = "SELECT stream_id, window_start, version, state FROM aggregator_open WHERE stream_id = ANY(%b)"
STREAMS_WITH_OPEN_WINDOWS = "SELECT DISTINCT stream_id FROM aggregator_open"
INSERT_OPEN = """
INSERT INTO aggregator_open (stream_id, window_start, version, state, updated_at)
SELECT *, now() FROM unnest(%b::int[], %b::timestamptz[], %b::int[], %b::text[]::jsonb[])
ON CONFLICT DO NOTHING
RETURNING stream_id, window_start
"""
UPDATE_OPEN = """
UPDATE aggregator_open o SET version = u.version, state = u.state, updated_at = now()
FROM unnest(%b::int[], %b::timestamptz[], %b::int[], %b::text[]::jsonb[]) AS u(stream_id, window_start, version, state)
WHERE o.stream_id = u.stream_id AND o.window_start = u.window_start AND o.version = u.version - 1
RETURNING o.stream_id, o.window_start
"""
DELETE_OPEN = """
DELETE FROM aggregator_open o
USING unnest(%b::int[], %b::timestamptz[], %b::int[]) AS d(stream_id, window_start, version)
WHERE o.stream_id = d.stream_id AND o.window_start = d.window_start AND o.version = d.version
RETURNING o.stream_id, o.window_start
"""
PRUNE = """
WITH old AS (
    DELETE FROM aggregator_sessions WHERE updated_at < now() - make_interval(days => %b::int)
    RETURNING stream_id, session_id, model
)
DELETE FROM aggregator_tracks t USING old
WHERE t.stream_id = old.stream_id AND t.session_id = old.session_id AND t.model = old.model
"""

# Errors that mean "the server is not there (now)": retried. Anything else is a bug and stops the worker.
UNAVAILABLE = (psycopg.OperationalError, psycopg.InterfaceError, RuntimeNotRunning, errors.AdminShutdown)


class _Stale(Exception):
    def __init__(self, streams: set[int]):
        super().__init__(streams)
        self.streams = streams


def libpq_url(url: str) -> str:
    """psycopg wants ``postgresql://``; settings may carry SQLAlchemy's ``postgresql+psycopg://``."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    return url


def _transpose(rows: list[tuple]) -> list[list]:
    return [list(column) for column in zip(*rows, strict=True)]


def _columns(rows: list, *names: str) -> list[list]:
    return [[getattr(row, name) for row in rows] for name in names]


class PostgresStore:
    """One connection, reopened after a failure (the URL is resolved again: an embedded server may move)."""

    def __init__(self, settings: Settings, connect_timeout_s: int = 5):
        self._settings = settings
        self._timeout = connect_timeout_s
        self._conn: psycopg.Connection | None = None

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(
                libpq_url(database_url(self._settings)), connect_timeout=self._timeout, autocommit=True
            )
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _run(self, action):
        """Run ``action(conn)`` in a transaction; connection trouble becomes StoreUnavailable."""
        try:
            conn = self._connection()
            with conn.transaction():
                return action(conn)
        except UNAVAILABLE as error:
            self.close()
            raise StoreUnavailable(str(error).strip().splitlines()[0] if str(error).strip() else repr(error)) from error

    # ------------------------------------------------------------------------------------------ reading

    def streams_with_open_windows(self) -> set[int]:
        return self._run(lambda conn: {row[0] for row in conn.execute(STREAMS_WITH_OPEN_WINDOWS)})

    def load(self, stream_ids: set[int], sessions: set[SessionKey]) -> Loaded:
        def action(conn: psycopg.Connection) -> Loaded:
            loaded = Loaded()
            if stream_ids:
                ids = sorted(stream_ids)
                for stream_id, closed_until in conn.execute(LOAD_STREAMS, (ids,)):
                    loaded.streams[stream_id] = closed_until
                for row in conn.execute(LOAD_OPEN, (ids,)):
                    loaded.open.setdefault(row[0], []).append(OpenWindow(*row))
            keys = sorted(sessions | session_keys(w for windows in loaded.open.values() for w in windows))
            if keys:
                key_arrays = [[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]]
                for stream_id, session_id, model, seqs in conn.execute(LOAD_SESSIONS, key_arrays):
                    loaded.sessions[(stream_id, session_id, model)] = IntRanges(seqs)
                for stream_id, session_id, model, object_class, track_id, start in conn.execute(LOAD_TRACKS,
                                                                                                key_arrays):
                    loaded.tracks.setdefault((stream_id, session_id, model), []).append((object_class, track_id,
                                                                                        start))
            return loaded

        return self._run(action)

    def load_closed(self, windows: set[tuple[int, datetime]]) -> LoadedClosed:
        def action(conn: psycopg.Connection) -> LoadedClosed:
            loaded = LoadedClosed()
            keys = sorted(windows)
            for stream_id, start, state, written in conn.execute(LOAD_CLOSED, _transpose(keys)):
                if state is not None:
                    loaded.states[(stream_id, start)] = state
                elif written:
                    loaded.stateless.add((stream_id, start))
            return loaded

        return self._run(action)

    def existing_streams(self, stream_ids: set[int]) -> set[int]:
        return self._run(
            lambda conn: {row[0] for row in conn.execute("SELECT id FROM streams WHERE id = ANY(%b)",
                                                         (sorted(stream_ids),))}
        )

    # ------------------------------------------------------------------------------------------ writing

    def write(self, flush: Flush) -> set[int]:
        """Commit ``flush``; returns the streams left out (removed meanwhile, or taken over by another process)."""
        lost: set[int] = set()
        while True:
            try:
                self._run(lambda conn, flush=flush: self._write(conn, flush))
                return lost
            except _Stale as stale:
                log.warning("streams %s are handled by another process now: leaving them", sorted(stale.streams))
                gone = stale.streams
            except errors.ForeignKeyViolation:
                ids = flush.streams()
                gone = ids - self.existing_streams(ids)
                log.warning("streams %s were removed: dropping their rows", sorted(gone))
                if not gone:
                    raise
            lost |= gone
            flush = flush.without(gone)

    @staticmethod
    def _write(conn: psycopg.Connection, flush: Flush) -> None:
        cur = conn.cursor()
        stale: set[int] = set()
        if flush.discard:
            cur.execute(DELETE_OPEN, _transpose(flush.discard))
            stale |= {key[0] for key in set((sid, start) for sid, start, _ in flush.discard) - set(cur.fetchall())}
        for statement, snapshots in ((INSERT_OPEN, [w for w in flush.snapshots if w.version == 1]),
                                     (UPDATE_OPEN, [w for w in flush.snapshots if w.version > 1])):
            if snapshots:
                cur.execute(statement, (
                    *_columns(snapshots, "stream_id", "window_start", "version"),
                    [json.dumps(w.state, separators=(",", ":")) for w in snapshots],
                ))
                written = set(cur.fetchall())
                stale |= {w.stream_id for w in snapshots if (w.stream_id, w.window_start) not in written}
        if stale:
            raise _Stale(stale)
        if flush.frame_windows:
            rows = flush.frame_windows
            cur.execute(UPSERT_FRAME_WINDOWS, _columns(
                rows, "stream_id", "window_start", "model", "window_end", "frames", "sessions", "first_capture_at",
                "last_capture_at",
            ))
            if flush.object_stats:
                cur.execute(UPSERT_OBJECT_STATS, _columns(
                    flush.object_stats, "stream_id", "window_start", "model", "object_class", "window_end",
                    "class_id", "frames", "detections", "mean_per_frame", "max_per_frame", "min_per_frame",
                    "unique_objects",
                ))
            cur.execute(DELETE_STALE_OBJECT_STATS, _columns(rows, "stream_id", "window_start", "model"))
        if flush.late:
            cur.execute(INSERT_LATE, _columns(flush.late, "stream_id", "session_id", "seq", "capture_time"))
        if flush.sessions:
            keys = sorted(flush.sessions)
            cur.execute(UPSERT_SESSIONS, (
                [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys],
                [Jsonb(flush.sessions[k].ranges()) for k in keys],
            ))
        if flush.tracks:
            cur.execute(INSERT_TRACKS, _columns(
                flush.tracks, "stream_id", "session_id", "model", "object_class", "track_id", "window_start",
            ))
        if flush.moves:
            cur.execute(MOVE_UNIQUE, _columns(flush.moves, "stream_id", "window_start", "model", "object_class"))
        if flush.closed:
            cur.execute(UPSERT_CLOSED, (
                *_columns(flush.closed, "stream_id", "window_start"),
                [json.dumps(w.state, separators=(",", ":")) for w in flush.closed],
            ))

    def prune(self, older_than_days: int, late_horizon_hours: float | None = None) -> int:
        """Forget the state of sessions untouched for ``older_than_days`` (their windows are long closed), and,
        given the late-data horizon, written windows' states older than it (plus a day of margin)."""
        def action(conn: psycopg.Connection) -> int:
            removed = conn.execute(PRUNE, (older_than_days,)).rowcount
            if late_horizon_hours is not None:
                conn.execute(PRUNE_CLOSED, (late_horizon_hours * 3600 + 86400,))
            return removed

        return self._run(action)

