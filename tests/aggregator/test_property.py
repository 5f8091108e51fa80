"""Property: any detection log, consumed in any batches, cut by crashes at any points (unacknowledged messages
replayed, acknowledged batch neighbours sometimes too, a commit whose acknowledgements were lost), with store
outages and state eviction, ends with exactly the rows of an uninterrupted run."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.messages import MessageError, decode_detections
from tests.aggregator.sim import (
    LATENESS_S,
    T0_MS,
    WINDOW_S,
    Log,
    MemoryStore,
    SimulatedCrash,
    message,
    new_aggregator,
    payload,
)

REGISTERED = {1, 2}  # stream 3 is not registered: its messages are dead-lettered
CLASSES = ["person", "car", "traffic light"]

frames = st.tuples(
    st.sampled_from([0, 300, 1000, 2500, 7000]),  # capture step (ms)
    st.one_of(st.just(0), st.just(0), st.integers(0, (WINDOW_S + 2 * LATENESS_S) * 1000)),  # out of order by
    st.sampled_from([False] * 9 + [True]),  # a new reader session starts
    st.lists(st.tuples(st.sampled_from(CLASSES), st.one_of(st.none(), st.integers(1, 6))), max_size=3),
)


@st.composite
def logs(draw) -> list[tuple[bytes, int]]:
    streams: dict[int, list] = {}
    for stream_id in draw(st.sets(st.sampled_from([1, 2, 3]), min_size=1)):
        capture, session, seq, out = 0, 0, 0, []
        for step, behind, new_session, objects in draw(st.lists(frames, max_size=30)):
            if new_session:
                session, seq = session + 1, 0
            capture += step
            out.append(payload(message(stream_id, f"s{session}", seq, max(0, capture - behind), objects)))
            seq += 1
        streams[stream_id] = out
    # Interleave the streams, keeping each stream's order (Key_Shared delivers a stream in order).
    order = draw(st.permutations([sid for sid, msgs in streams.items() for _ in msgs]))
    cursors = dict.fromkeys(streams, 0)
    merged = []
    for stream_id in order:
        merged.append(streams[stream_id][cursors[stream_id]])
        cursors[stream_id] += 1
    # Duplicates (same stream, session and sequence) somewhere later, and undecodable garbage.
    for _ in range(draw(st.integers(0, 4))):
        if merged:
            source = draw(st.integers(0, len(merged) - 1))
            merged.insert(draw(st.integers(source + 1, len(merged))), merged[source])
    for _ in range(draw(st.integers(0, 2))):
        merged.insert(draw(st.integers(0, len(merged))), b'{"not": "a detection"')
    gaps = draw(st.lists(st.sampled_from([1, 40, 700, 3000, 9000]), min_size=len(merged), max_size=len(merged)))
    publish, out = T0_MS, []
    for body, gap in zip(merged, gaps, strict=True):
        publish += gap
        out.append((body, publish))
    return out


actions = st.lists(
    st.one_of(
        st.tuples(st.just("publish"), st.integers(1, 12)),
        st.tuples(st.just("batch"), st.integers(1, 9)),
        st.tuples(st.just("tick"), st.floats(0, 0.999)),
        st.tuples(st.just("evict"), st.just(0)),
    ),
    max_size=40,
)
faults = st.lists(
    st.one_of(
        st.tuples(st.just("crash"), st.floats(0, 1)),  # value: share of acknowledged messages redelivered
        st.tuples(st.just("crash_after_commit"), st.floats(0, 1)),  # the acknowledgements never left
        st.tuples(st.just("outage"), st.integers(1, 3)),
        st.tuples(st.just("killed_in_outage"), st.integers(1, 3)),
    ),
    min_size=1,
    max_size=6,
)


def run(entries, schedule, registered=REGISTERED) -> tuple[MemoryStore, Log, Counter]:
    """Drive an aggregator through ``schedule``, then publish and consume the rest and finish."""
    store, log = MemoryStore(set(registered)), Log(entries, published=0)
    aggregator = new_aggregator(store, log)
    seen: Counter = Counter()

    def restart(redeliver_share: float) -> None:
        nonlocal aggregator
        seen.update(asdict(aggregator.machine.counters))
        seen["restarts"] += 1
        store.outage, store.write_outage, store.die_in_outage = 0, False, False
        acked = sorted(log.acked)
        log.crash(frozenset(acked[: int(len(acked) * redeliver_share)]))
        aggregator = new_aggregator(store, log)

    def attempt(call) -> None:
        """Run ``call(aggregator)``; a process killed in the middle restarts (the store outage ends with it)."""
        try:
            call(aggregator)
        except SimulatedCrash:
            restart(0.5)

    def consume(count: int, lose_acks: bool = False) -> None:
        kept = set(log.acked)
        attempt(lambda a: a.handle_batch(log.take(count)))
        if lose_acks:
            log.acked = kept  # committed, but the acknowledgements were lost with the process

    for kind, value in schedule:
        if kind == "publish":
            log.published += value
        elif kind == "batch":
            consume(value)
        elif kind == "tick" and log.caught_up:  # the worker ticks only when a receive came back empty
            upto = log.frontier
            low = entries[upto - 1][1] if upto else T0_MS
            high = entries[upto][1] if upto < len(entries) else low + 60_000
            attempt(lambda a, now=int(low + value * (high - low)): a.idle(now))
        elif kind == "evict":
            aggregator.evict()
        elif kind in ("crash", "crash_after_commit"):
            if kind == "crash_after_commit":
                consume(5, lose_acks=True)
            restart(value)
        elif kind == "outage":
            store.outage = value
        elif kind == "killed_in_outage":
            store.write_outage = store.die_in_outage = True
            consume(value)
    store.outage, store.write_outage, store.die_in_outage = 0, False, False
    log.published = None
    while not log.caught_up:
        consume(7)
    aggregator.finish()
    seen.update(asdict(aggregator.machine.counters))
    return store, log, seen


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=logs(), plain=actions, faulty=actions, injected=faults, data=st.data())
def test_restarts_and_replays_give_the_rows_of_an_uninterrupted_run(entries, plain, faulty, injected, data) -> None:
    expected, clean_log, _ = run(entries, plain)
    schedule = list(faulty)
    for fault in injected:
        schedule.insert(data.draw(st.integers(0, len(schedule))), fault)
    got, log, seen = run(entries, schedule)
    for name, value in seen.items():
        if value:
            event(name)  # shown by --hypothesis-show-statistics: how often each path was taken
    assert got.tables() == expected.tables()
    # Everything ends acknowledged; undecodable and unregistered messages went to the dead-letter topic.
    assert log.acked == set(range(len(entries)))
    assert set(log.dead) == set(clean_log.dead)


def _capture_order(entries: list[tuple[bytes, int]]) -> list[tuple[bytes, int]]:
    """The same messages in capture-time order (garbage last), keeping the publish times' sequence."""
    def capture(body: bytes) -> float:
        try:
            return decode_detections(body).capture_time.timestamp()
        except MessageError:
            return float("inf")

    bodies = sorted((body for body, _ in entries), key=capture)
    return [(body, publish) for body, (_, publish) in zip(bodies, entries, strict=True)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=logs(), faulty=actions, injected=st.lists(faults.filter(bool), max_size=1), data=st.data())
def test_any_order_of_arrival_within_the_horizon_gives_the_rows_of_an_in_order_run(entries, faulty, injected,
                                                                                   data) -> None:
    """Late data re-opens written windows: messages arriving in any order (across streams and within one),
    with crashes and replays on top, end with the rows of a crash-free run that saw them in capture order."""
    expected, _, _ = run(_capture_order(entries), [])
    shuffled = data.draw(st.permutations(entries))
    publish = sorted(p for _, p in entries)
    shuffled = [(body, p) for (body, _), p in zip(shuffled, publish, strict=True)]
    schedule = list(faulty)
    for fault in (injected[0] if injected else []):
        schedule.insert(data.draw(st.integers(0, len(schedule))), fault)
    got, log, seen = run(shuffled, schedule)
    if seen["reopened"]:
        event("reopened")
    assert seen["late"] == 0
    assert got.tables() == expected.tables()
    assert log.acked == set(range(len(entries)))
