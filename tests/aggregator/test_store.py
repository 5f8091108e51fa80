"""The Postgres store on the real server: a removed stream, a stale process fenced off, old state pruned, late
data rewriting a written window once."""

from __future__ import annotations

from sqlalchemy import text

from aggregator.pipeline import Aggregator
from aggregator.store import PostgresStore
from aggregator.windows import WindowMachine
from core.db.engine import session_scope
from tests.aggregator.helpers import register_streams, tables
from tests.aggregator.sim import T0_MS, Log, message, payload


def aggregator(settings, log: Log) -> Aggregator:
    agg = Aggregator(WindowMachine(10, 3, 8), PostgresStore(settings), log)
    agg.start()
    return agg


def entries(stream_id: int, count: int, start: int = 0) -> list[tuple[bytes, int]]:
    return [(payload(message(stream_id, "a", seq, seq * 1_000, [("person", seq % 4)])), T0_MS + seq * 100)
            for seq in range(start, start + count)]


def test_a_stream_removed_while_its_window_is_open_is_dropped_alone(settings) -> None:
    kept, removed = register_streams(settings, 2)
    log = Log(entries(kept, 6) + entries(removed, 6))
    agg = aggregator(settings, log)
    agg.handle_batch(log.take(12))  # both have [0, 10) open, snapshotted
    with session_scope(settings) as session:
        session.execute(text("DELETE FROM streams WHERE id = :id"), {"id": removed})
    agg.finish()
    assert agg.streams_lost == 1 and log.acked == set(range(12))
    assert {row[0] for row in tables(settings, [kept, removed])["frame_windows"]} == {kept}


def test_a_stale_process_is_fenced_off_by_the_snapshot_version(settings) -> None:
    (stream,) = register_streams(settings, 1)
    rows = entries(stream, 16)
    first, second = Log(rows[:6]), Log(rows[6:])
    a = aggregator(settings, first)
    a.handle_batch(first.take(6))
    b = aggregator(settings, second)  # a Key_Shared rebalance: B now receives the stream, from the snapshot on
    b.handle_batch(second.take(2))
    a.idle(T0_MS + 60_000)  # A's stale copy of [0, 10) goes idle at A: its write must be refused
    assert a.streams_lost == 1
    assert tables(settings, [stream])["frame_windows"] == set()
    b.handle_batch(second.take(8))
    b.finish()
    assert sorted(row[4] for row in tables(settings, [stream])["frame_windows"]) == [6, 10]


def test_state_of_long_finished_sessions_is_pruned(settings) -> None:
    (stream,) = register_streams(settings, 1)
    log = Log(entries(stream, 12))
    agg = aggregator(settings, log)
    agg.handle_batch(log.take(12))
    agg.finish()
    with session_scope(settings) as session:
        counts = lambda: [session.execute(text(f"SELECT count(*) FROM {t} WHERE stream_id = :s"),  # noqa: E731
                                          {"s": stream}).scalar_one()
                          for t in ("aggregator_sessions", "aggregator_tracks")]
        assert counts() == [1, 4]
        session.execute(text("UPDATE aggregator_sessions SET updated_at = now() - interval '31 days' "
                             "WHERE stream_id = :s"), {"s": stream})
        session.commit()
        assert PostgresStore(settings).prune(30) >= 4
        assert counts() == [0, 0]


def test_late_data_rewrites_its_written_window_once_and_takes_over_its_track_ids(settings) -> None:
    (stream,) = register_streams(settings, 1)
    rows = [(payload(message(stream, "a", 0, 12_000, [("person", 7)])), T0_MS + 1),
            (payload(message(stream, "a", 1, 30_000, [])), T0_MS + 2),  # [10, 20) written, person 7 counted there
            (payload(message(stream, "a", 2, 5_000, [("person", 7), ("car", 3)])), T0_MS + 3)]  # late, [0, 10)
    log = Log(rows)
    agg = aggregator(settings, log)
    for _ in rows:
        agg.handle_batch(log.take(1))
    log.crash(frozenset({2}))  # the late message comes back after its commit: a duplicate
    again = aggregator(settings, log)
    again.handle_batch(log.take(1))
    again.finish()
    assert again.machine.counters.duplicates == 1 and agg.machine.counters.reopened == 1
    got = tables(settings, [stream])
    assert {(r[1].second, r[3], r[11]) for r in got["object_stats"]} == {(0, "car", 1), (0, "person", 1),
                                                                         (10, "person", 0)}
    assert {(r[1].second, r[4]) for r in got["frame_windows"]} == {(0, 1), (10, 1), (30, 1)}
    assert got["late_detections"] == set()
    with session_scope(settings) as session:
        (start,) = session.execute(text("SELECT window_start FROM aggregator_tracks WHERE stream_id = :s "
                                        "AND object_class = 'person'"), {"s": stream}).scalars()
        assert start.second == 0
        assert session.execute(text("SELECT count(*) FROM aggregator_closed WHERE stream_id = :s"),
                               {"s": stream}).scalar_one() == 3
