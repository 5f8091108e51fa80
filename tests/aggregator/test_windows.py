"""The window state machine on known messages: exact rows, duplicates, lateness, idleness, first-seen tracks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aggregator.pipeline import Aggregator
from aggregator.ranges import IntRanges
from aggregator.rows import FrameWindowRow, ObjectStatRow
from aggregator.windows import WindowMachine
from tests.aggregator.sim import T0, T0_MS, Log, MemoryStore, message, new_aggregator, payload

W = timedelta(seconds=10)


def machine(known: dict[int, bool] | None = None) -> WindowMachine:
    m = WindowMachine(10, 3, 8)
    for stream_id, registered in (known or {1: True}).items():
        m.restore_stream(stream_id, registered=registered, closed_until=None)
    return m


def feed(m: WindowMachine, *messages, publish_ms: int | None = None) -> list[str]:
    fates = []
    for i, msg in enumerate(messages):
        for key in m.unknown([msg])[1]:
            m.restore_session(key, IntRanges(), ())
        fates.append(m.add(msg, publish_ms if publish_ms is not None else T0_MS + i, handle=(msg.seq, i)))
    return fates


def test_known_messages_give_exact_rows() -> None:
    m = machine()
    fates = feed(
        m,
        message(1, "a", 0, 0, [("person", 1), ("person", 2), ("car", 7)]),
        message(1, "a", 1, 2_000, [("person", 1)]),
        message(1, "a", 2, 4_000, []),  # a frame with nothing: zeros are data
        message(1, "a", 3, 9_999, [("person", 1), ("person", 3), ("person", 4)]),
        message(1, "a", 4, 11_000, [("person", 3), ("person", 5)]),  # next window: 3 was seen before, 5 is new
        message(1, "a", 5, 13_000, []),  # the watermark reaches 10 + 3 s: the first window closes
    )
    assert fates == ["counted"] * 6
    out = m.take()
    assert out.frame_windows == [FrameWindowRow(1, T0, "m1", T0 + W, 4, 1, T0, T0 + timedelta(milliseconds=9_999))]
    assert out.object_stats == [
        ObjectStatRow(1, T0, "m1", "car", T0 + W, 2, 4, 1, 0.25, 1, 0, 1),
        ObjectStatRow(1, T0, "m1", "person", T0 + W, 0, 4, 6, 1.5, 3, 0, 4),
    ]
    assert len(out.ack) == 6  # every message, once this flush is committed
    # The open window is snapshotted (version 1); the closed one never needed it.
    (snapshot,) = out.snapshots
    assert (snapshot.window_start, snapshot.version, snapshot.state["messages"]) == (T0 + W, 1, 2)
    assert snapshot.state["models"]["m1"]["seqs"] == {"a": [[4, 5]]}
    assert snapshot.state["models"]["m1"]["classes"] == {
        "person": {"id": 0, "detections": 2, "frames": 1, "max": 2, "min": 2, "tracks": [["a", 3], ["a", 5]]}}
    assert out.discard == []
    assert out.sessions[(1, "a", "m1")] == IntRanges([(0, 3)])
    assert sorted((t.object_class, t.track_id) for t in out.tracks) == [
        ("car", 7), ("person", 1), ("person", 2), ("person", 3), ("person", 4)
    ]
    m.close_all()
    second = m.take()
    assert second.discard == [(1, T0 + W, 1)]  # closing a snapshotted window deletes its snapshot
    assert second.object_stats == [ObjectStatRow(1, T0 + W, "m1", "person", T0 + 2 * W, 0, 2, 2, 1.0, 2, 0, 1)]
    assert [t.track_id for t in second.tracks] == [5]


def test_min_per_frame_is_the_real_minimum_when_the_class_is_in_every_frame() -> None:
    m = machine()
    feed(m, message(1, "a", 0, 0, [("car", None)] * 2), message(1, "a", 1, 1, [("car", None)] * 5))
    m.close_all()
    (row,) = m.take().object_stats
    assert (row.min_per_frame, row.max_per_frame, row.mean_per_frame, row.unique_objects) == (2, 5, 3.5, 0)


def test_duplicates_count_once_while_open_and_after_their_window_was_written() -> None:
    m = machine()
    first = message(1, "a", 0, 0, [("person", 1)])
    assert feed(m, first, first, message(1, "a", 0, 500, [])) == ["counted", "duplicate", "duplicate"]
    assert feed(m, message(1, "a", 1, 20_000, [])) == ["counted"]  # closes the first window
    assert feed(m, first) == ["duplicate"]  # not late: its sequence was counted in a written window
    out = m.take()
    assert [r.frames for r in out.frame_windows] == [1]
    assert out.late == []
    assert len(out.ack) == 5 and m.counters.duplicates == 3


def test_late_data_within_the_horizon_rewrites_its_window_and_older_data_is_put_aside() -> None:
    m = WindowMachine(10, 3, 8, horizon_s=20)
    m.restore_stream(1, registered=True, closed_until=None)
    feed(m, message(1, "a", 0, 1_000, []), message(1, "a", 1, 14_000, []))  # watermark 14 s: [0, 10) closed
    assert feed(m, message(1, "a", 2, 9_000, [("person", 9)])) == ["reopened"]  # re-opens [0, 10)
    assert feed(m, message(1, "a", 2, 9_000, [("person", 9)])) == ["duplicate"]
    # A window never opened whose end + lateness the watermark passed: counted, and written at once.
    assert feed(m, message(1, "a", 3, 40_000, []), message(1, "a", 4, 21_000, [])) == ["counted", "counted"]
    assert feed(m, message(1, "a", 5, 15_000, [])) == ["late"]  # 25 s behind the watermark: beyond the horizon
    out = m.take()
    assert [(r.window_start, r.frames) for r in out.frame_windows] == [(T0, 2), (T0 + W, 1), (T0 + 2 * W, 1)]
    assert [(r.window_start, r.object_class, r.unique_objects) for r in out.object_stats] == [(T0, "person", 1)]
    assert [(r.seq, r.capture_time) for r in out.late] == [(5, T0 + timedelta(seconds=15))]
    assert m.counters.reopened == 1 and m.counters.late == 1
    assert out.sessions[(1, "a", "m1")] == IntRanges([(0, 2), (4, 5)]) or 5 not in out.sessions[(1, "a", "m1")]


def test_a_late_window_takes_over_the_track_ids_a_later_window_counted() -> None:
    entries = [(payload(message(1, "a", 0, 12_000, [("person", 7)])), T0_MS + 1),
               (payload(message(1, "a", 1, 30_000, [])), T0_MS + 2),  # [10, 20) written: person 7 counted there
               (payload(message(1, "a", 2, 5_000, [("person", 7)])), T0_MS + 3)]  # late: 7 was in [0, 10) first
    store, log = MemoryStore({1}), Log(entries)
    aggregator = new_aggregator(store, log)
    for _ in entries:
        aggregator.handle_batch(log.take(1))  # one batch each: [10, 20)'s state comes back from the store
    aggregator.finish()
    stats = {(k[1], k[3]): v for k, v in store.object_stats.items()}
    assert stats[(T0, "person")].unique_objects == 1 and stats[(T0 + W, "person")].unique_objects == 0
    assert store.tracks == {(1, "a", "m1", "person", 7): T0}
    assert aggregator.machine.counters.reopened == 1


def test_idle_streams_close_on_the_arrival_clock_and_late_messages_do_not_keep_them_open() -> None:
    m = machine({1: True, 2: True})
    feed(m, message(1, "a", 0, 0, []), publish_ms=T0_MS)
    feed(m, message(1, "a", 1, 13_000, []), publish_ms=T0_MS + 1_000)  # closes [0, 10); opens [10, 20)
    feed(m, message(1, "a", 2, 1_000, []), publish_ms=T0_MS + 5_000)  # late: must not extend the idle deadline
    m.take()
    feed(m, message(2, "x", 0, 0, []), publish_ms=T0_MS + 9_000)  # arrival clock 9 s: stream 1 idle 8 s
    out = m.take()
    assert [(r.stream_id, r.window_start) for r in out.frame_windows] == [(1, T0 + W)]
    assert m.counters.idle_closes == 1
    m.tick(T0_MS + 17_000)  # the clock alone when caught up: stream 2 idle too
    assert [r.stream_id for r in m.take().frame_windows] == [2]
    assert m.open_windows == 0


def test_unregistered_streams_and_unstorable_sessions_are_rejected() -> None:
    m = machine({1: True, 5: False})
    assert feed(m, message(5, "a", 0, 0, []), message(1, "s" * 37, 0, 0, [])) == ["rejected", "rejected"]
    out = m.take()
    assert [reason for _, reason in out.rejected] == ["stream 5 is not registered",
                                                      "session id longer than 36 characters"]


def test_each_model_and_session_counts_on_its_own() -> None:
    m = machine()
    feed(
        m,
        message(1, "a", 0, 0, [("person", 1)], model="m1"),
        message(1, "a", 0, 0, [("person", 1), ("person", 2)], model="m2"),  # same frame, another model
        message(1, "b", 0, 100, [("person", 1)], model="m1"),  # another session: track 1 is another object
    )
    m.close_all()
    out = m.take()
    assert [(r.model, r.frames, r.sessions) for r in out.frame_windows] == [("m1", 2, 2), ("m2", 1, 1)]
    assert [(r.model, r.detections, r.unique_objects) for r in out.object_stats] == [("m1", 2, 2), ("m2", 2, 2)]


def test_machine_refuses_messages_of_streams_it_was_not_given() -> None:
    with pytest.raises(KeyError):
        WindowMachine(10, 3, 8).add(message(1, "a", 0, 0, []), T0_MS, None)


def test_a_commit_whose_acknowledgements_were_lost_is_not_counted_twice() -> None:
    entries = [(payload(message(1, "a", seq, seq * 1_000, [("person", seq % 3)])), T0_MS + seq) for seq in range(30)]
    store, log = MemoryStore({1}), Log(entries)
    aggregator = new_aggregator(store, log)
    aggregator.handle_batch(log.take(30))  # windows [0, 10) and [10, 20) are written...
    written = store.tables()
    log.acked.clear()  # ...but the process died before its acknowledgements reached the broker
    log.crash()
    again = new_aggregator(store, log)
    again.handle_batch(log.take(30))
    again.finish()
    assert again.machine.counters.duplicates == 30 and again.machine.counters.late == 0  # [20, 30) in a snapshot
    tables = store.tables()
    assert {k: v for k, v in tables["frame_windows"].items() if k in written["frame_windows"]} == \
        written["frame_windows"]
    assert [r.frames for r in tables["frame_windows"].values()] == [10, 10, 10]
    assert tables["late_detections"] == {}


def test_outage_holds_acknowledgements_until_the_write_commits() -> None:
    entries = [(payload(message(1, "a", seq, seq * 1_000, [])), T0_MS + seq) for seq in range(15)]
    store, log = MemoryStore({1}), Log(entries)
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        assert log.acked == set()  # nothing acknowledged while the store is down
        if len(sleeps) == 4:
            store.write_outage = False

    aggregator = Aggregator(WindowMachine(10, 3, 8), store, log, sleep=sleep)
    store.write_outage = True
    aggregator.handle_batch(log.take(15))
    assert sleeps == [0.2, 0.4, 0.8, 1.6]  # exponential backoff
    assert log.acked == set(range(15)) and store.writes == 1
    assert len(store.frame_windows) == 1 and len(store.open) == 1


def test_undecodable_messages_are_dead_lettered_and_acknowledged() -> None:
    store, log = MemoryStore({1}), Log([(b"\xff not json", T0_MS), (b'{"schema_version": 1}', T0_MS + 1)])
    aggregator = new_aggregator(store, log)
    aggregator.handle_batch(log.take(2))
    assert log.acked == {0, 1} and set(log.dead) == {0, 1}
    assert "invalid detection message" in log.dead[1]
    assert aggregator.dead_letters == 2


@pytest.mark.parametrize(
    ("initial", "added", "expected"),
    [
        ([], [3, 1, 2, 2], [[1, 3]]),
        ([[0, 9]], [10, 11, 15], [[0, 11], [15, 15]]),
        ([[5, 9]], [1, 2, 4], [[1, 2], [4, 9]]),
        ([[0, 3], [10, 12]], [4, 5, 6, 7, 8, 9], [[0, 12]]),
    ],
)
def test_int_ranges(initial, added, expected) -> None:
    ranges = IntRanges(initial)
    ranges.update(added)
    assert ranges.ranges() == expected
    members = {v for lo, hi in expected for v in range(lo, hi + 1)}
    assert all((v in ranges) == (v in members) for v in range(-1, 20))
    assert len(ranges) == len(members)


def test_a_stale_process_cannot_overwrite_a_stream_another_one_took_over() -> None:
    """A Key_Shared rebalance moves stream 1 from A to B mid-window; A later closes its (stale) copy on idleness:
    the snapshot version refuses it, and the rows are those of one process."""
    entries = [(payload(message(1, "a", seq, seq * 1_000, [("person", seq)])), T0_MS + seq * 100) for seq in range(16)]
    store = MemoryStore({1})
    first, second = Log(entries[:6]), Log(entries[6:])
    a, b = new_aggregator(store, first), new_aggregator(store, second)
    a.handle_batch(first.take(6))  # [0, 10) open at A, snapshotted
    b.handle_batch(second.take(2))  # B restores the snapshot, adds seq 6 and 7
    a.idle(T0_MS + 60_000)  # A thinks stream 1 went idle and closes its stale view of [0, 10)
    assert a.streams_lost == 1 and store.frame_windows == {}
    b.handle_batch(second.take(8))
    b.finish()
    alone = MemoryStore({1})
    single = new_aggregator(alone, Log(entries))
    single.handle_batch(single.acks.take(16))
    single.finish()
    assert store.tables() == alone.tables()
    assert [r.frames for r in store.frame_windows.values()] == [10, 6]
